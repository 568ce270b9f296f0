// The rubric as data: 100 points in the seed's sections, every item earnable, every manual part with a guide,
// every item with follow-up questions, every check id of CONTRACT §5 mapped and every mapped id a contract id.

import { describe, expect, it } from 'vitest';
import { CONTRACT_CHECKS, RED_FLAGS, RUBRIC, SECTIONS, autoPoints, findItem } from './rubric.ts';

const contractIds = new Set(Object.values(CONTRACT_CHECKS).flat());

describe('the rubric', () => {
  it('sums to exactly 100, section by section as the seed says', { timeout: 5000 }, () => {
    expect(RUBRIC.reduce((s, i) => s + i.points, 0)).toBe(100);
    for (const s of SECTIONS) expect(RUBRIC.filter((i) => i.section === s.title).reduce((n, i) => n + i.points, 0)).toBe(s.points);
    expect(SECTIONS.map((s) => s.points)).toEqual([25, 25, 20, 20, 10]);
    expect(RUBRIC.every((i) => i.points === 5)).toBe(true);
  });

  it('has the seed\'s twenty items, each with a unique id', { timeout: 5000 }, () => {
    expect(RUBRIC.map((i) => i.item)).toEqual([
      'Locking', 'Transactions', 'Race prevention', 'Idempotency', 'Error recovery',
      'Justified technology choices', 'Error handling', 'Database design rationale', 'API design', 'Monitoring',
      'Caching', 'Database optimisation', 'Load balancing', 'Performance monitoring',
      'Clean code', 'Type safety', 'Error handling in code', 'Testing',
      'Distributed systems', 'Security',
    ]);
    expect(new Set(RUBRIC.map((i) => i.id)).size).toBe(RUBRIC.length);
  });

  it('splits every item exactly into its automatic and manual parts', { timeout: 5000 }, () => {
    for (const i of RUBRIC) {
      expect(autoPoints(i) + (i.manual ?? 0), i.id).toBe(i.points);
      expect(i.auto?.length || i.manual, i.id).toBeTruthy();
      for (const p of i.auto ?? []) expect(Number.isInteger(p.points) && p.points > 0, i.id).toBe(true);
    }
    const kinds = RUBRIC.map((i) => (i.auto && i.manual ? 'mixed' : i.auto ? 'auto' : 'manual'));
    expect(kinds).toContain('mixed');
    expect(kinds).toContain('auto');
    expect(kinds).toContain('manual');
  });

  it('gives every manual part a guide for 0, 3 and 5, and every item 2–3 follow-up questions', { timeout: 5000 }, () => {
    for (const i of RUBRIC) {
      if (i.manual) for (const k of [0, 3, 5] as const) expect(i.guide?.[k], `${i.id} guide ${k}`).toMatch(/\w{3}/);
      expect(i.questions.length, i.id).toBeGreaterThanOrEqual(2);
      expect(i.questions.length, i.id).toBeLessThanOrEqual(3);
      for (const q of i.questions) expect(q).toMatch(/\?/);
    }
  });

  it('maps only CONTRACT §5 check ids, and maps every one of them (loads aside)', { timeout: 5000 }, () => {
    const mapped = new Set(RUBRIC.flatMap((i) => (i.auto ?? []).flatMap((p) => ('checks' in p ? p.checks : []))));
    for (const id of mapped) expect(contractIds.has(id), id).toBe(true);
    for (const id of contractIds) if (id !== 'loads') expect(mapped.has(id), `${id} earns no points`).toBe(true);
    expect(CONTRACT_CHECKS['payment-webhook']).toContain('signature-enforced');
    expect(CONTRACT_CHECKS.subscription).toContain('crash-recovered');
  });

  it('raises each CONTRACT §5 red flag from its named checks', { timeout: 5000 }, () => {
    expect(Object.fromEntries(RED_FLAGS.map((f) => [f.id, f.checks]))).toEqual({
      'no-concurrency-handling': ['single-winner'],
      'no-idempotency': ['one-subscription-per-payment', 'no-double-charge'],
      'security-vulnerability': ['signature-enforced'],
      'no-error-handling': ['no-crash'],
      'no-retry-mechanism': ['eventually-created'],
    });
  });

  it('finds items by id, name or "Section / Item"', { timeout: 5000 }, () => {
    expect(findItem('database-design')?.item).toBe('Database design rationale');
    expect(findItem('Database design rationale')?.id).toBe('database-design');
    expect(findItem('System Design & Architecture / API design')?.id).toBe('api-design');
    expect(findItem('nope')).toBeUndefined();
  });
});

describe('docs/rubric.md', () => {
  it('is the rendering of the rubric (regenerate with: npx tsx rubric/doc.ts --write)', { timeout: 5000 }, async () => {
    const { rubricMarkdown, RUBRIC_DOC } = await import('./doc.ts');
    const fs = await import('node:fs');
    expect(fs.readFileSync(RUBRIC_DOC, 'utf8')).toBe(rubricMarkdown());
  });
});

// Manual score files: both accepted shapes, items by id or name, validation that says what to do, overrides
// that need a reason, merging with earlier scores, and removal with null.

import { describe, expect, it } from 'vitest';
import { mergeManual, parseManualScores } from './manual.ts';
import { UsageError } from '../harness/errors.ts';

const T = { timeout: 5000 };

describe('manual score files', () => {
  it('accepts the full shape and the flat shape, items by id or by name', T, () => {
    const full = parseManualScores({ interviewer: 'Ada', scores: { 'technology-choices': 4, 'Database design rationale': { score: 3, note: 'keys, no indexes' } } });
    expect(full.scoring).toEqual({ interviewer: 'Ada', scores: { 'technology-choices': { score: 4 }, 'database-design': { score: 3, note: 'keys, no indexes' } } });
    expect(parseManualScores({ caching: 5, 'Scalability & Performance / Performance monitoring': 1 }).scoring.scores).toEqual({ caching: { score: 5 }, 'performance-monitoring': { score: 1 } });
  });

  it.each([
    [{ scores: { nope: 3 } }, /unknown rubric item "nope"/],
    [{ scores: { locking: 3 } }, /"Locking" is scored automatically/],
    [{ scores: { caching: 7 } }, /must be a number from 0 to 5/],
    [{ scores: { caching: 'good' } }, /must be a number from 0 to 5/],
    [{ overrides: { locking: { awarded: 3 } } }, /needs a "note"/],
    [{ overrides: { locking: { awarded: 9, note: 'x' } } }, /"awarded" from 0 to 5/],
    [{ overrides: { 'clean-code': { awarded: 1, note: 'x' } } }, /no automatic part/],
    [[1, 2], /expected a JSON object/],
  ])('rejects %j', (doc, message) => {
    expect(() => parseManualScores(doc)).toThrow(UsageError);
    expect(() => parseManualScores(doc)).toThrow(message);
  });

  it('keeps overrides with their reason', T, () => {
    const { scoring } = parseManualScores({ scores: {}, overrides: { locking: { awarded: 4.5, note: ' host overloaded ' } } });
    expect(scoring.overrides).toEqual({ locking: { awarded: 4.5, note: 'host overloaded' } });
  });

  it('merges item by item with earlier scores; null removes one', T, () => {
    const first = parseManualScores({ interviewer: 'Ada', scores: { caching: 2, 'clean-code': 4 } }).scoring;
    const next = parseManualScores({ scores: { caching: 3, 'clean-code': null } });
    const merged = mergeManual(first, next.scoring, next.removed);
    expect(merged.scores).toEqual({ caching: { score: 3 } });
    expect(merged.interviewer).toBe('Ada');
    expect(merged.scoredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

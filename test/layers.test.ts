// The layers of docs/architecture.md, enforced: bin (CLI) → app → rubric → challenges → kernel, where an arrow means
// "may import" and nothing imports upward. Read from the source's import specifiers (static, re-exports, dynamic
// imports and type-only imports alike); tests are outside the layers. No database needed.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const LAYERS = ['kernel', 'challenges', 'rubric', 'app', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/** The layer a repository file belongs to, or null for what is outside them (tests, references, fixtures). */
export function layerOf(rel: string): Layer | null {
  const p = rel.split(path.sep).join('/');
  if (/\.test\.ts$/.test(p) || p.startsWith('test/')) return null;
  if (p.startsWith('bin/')) return 'cli';
  if (p.startsWith('harness/app/') || p === 'harness/index.ts') return 'app';
  if (p.startsWith('harness/')) return 'kernel';
  if (p.startsWith('rubric/')) return 'rubric';
  if (p.startsWith('challenges/')) return 'challenges';
  return null;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Relative import specifiers of a source file, resolved to repository paths. */
export function importsOf(rel: string): string[] {
  const text = fs.readFileSync(path.join(root, rel), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)].map((m) => m[2]);
  return specs.map((s) => path.normalize(path.join(path.dirname(rel), s)));
}

export function upwardImports(): string[] {
  const bad: string[] = [];
  for (const dir of ['bin', 'harness', 'rubric', 'challenges']) {
    for (const file of sources(dir)) {
      const from = layerOf(file);
      if (!from) continue;
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to && LAYERS.indexOf(to) > LAYERS.indexOf(from)) bad.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
  }
  return bad;
}

describe('layers', () => {
  it('classifies the folders as docs/architecture.md draws them', () => {
    expect(layerOf('harness/infra/index.ts')).toBe('kernel');
    expect(layerOf('harness/app/grade.ts')).toBe('app');
    expect(layerOf('harness/index.ts')).toBe('app');
    expect(layerOf('challenges/seat-reservation/index.ts')).toBe('challenges');
    expect(layerOf('rubric/score.ts')).toBe('rubric');
    expect(layerOf('bin/gauntlet.ts')).toBe('cli');
    expect(layerOf('harness/instances/bundle.test.ts')).toBeNull();
  });

  it('finds every kind of import (so the rule below can fail)', () => {
    const text = importsOf('harness/app/starter-kit.ts').concat(importsOf('challenges/index.ts'));
    expect(text.some((t) => t.startsWith('challenges'))).toBe(true);
  });

  it('nothing imports upward: kernel ← challenges ← rubric ← app ← cli', () => {
    expect(upwardImports()).toEqual([]);
  });
});

// The fast unit target (vitest.unit.config.ts) lists its files by name: a renamed or removed file must not drop out
// of it silently, and every listed file must also be part of `npm test`.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { TIMING_FILES, UNIT_FILES } from '../vitest.unit.config.ts';

describe('npm run test:unit', () => {
  it('lists only test files that exist', () => {
    expect(UNIT_FILES.length).toBeGreaterThan(40);
    expect(UNIT_FILES.filter((f) => !fs.existsSync(f) || !f.endsWith('.test.ts'))).toEqual([]);
    expect(new Set(UNIT_FILES).size).toBe(UNIT_FILES.length);
  });

  it('runs the files that time calls or CPU alone, after the rest (they are part of the unit target too)', () => {
    expect(TIMING_FILES.length).toBeGreaterThan(0);
    expect(TIMING_FILES.filter((f) => !UNIT_FILES.includes(f))).toEqual([]);
  });
});

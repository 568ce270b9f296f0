// The fast unit target (vitest.unit.config.ts) lists its files by name: a renamed or removed file must not drop out
// of it silently, and every listed file must also be part of `npm test`.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import unit from '../vitest.unit.config.ts';

describe('npm run test:unit', () => {
  it('lists only test files that exist', () => {
    const include = (unit as { test: { include: string[] } }).test.include;
    expect(include.length).toBeGreaterThan(40);
    expect(include.filter((f) => !fs.existsSync(f) || !f.endsWith('.test.ts'))).toEqual([]);
  });
});

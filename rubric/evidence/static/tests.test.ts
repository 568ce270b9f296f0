// The candidate's own tests: files that exercise concurrency and failures are counted; a "trace" is no race.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanTests } from './tests.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-own-tests-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('own tests', () => {
  it('counts concurrency and failure tests', () => {
    const write = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
    const files = [
      write('race.test.ts', "it('x', async () => { await Promise.all([a(), b()]); await expect(c()).rejects.toThrow('SEAT_TAKEN'); });"),
      write('plain.test.ts', "it('y', () => { expect(stackTrace()).toBe(1); });"),
    ];
    expect(scanTests([...files, path.join(dir, 'missing.test.ts')], dir)).toEqual({ files: ['race.test.ts', 'plain.test.ts', 'missing.test.ts'], concurrencyTests: 1, failureTests: 1 });
  });
});

// The history file: every invoke and completion reaches history.jsonl in order, batched (a steady load writes
// one batch per FLUSH_MS, not one file write per line), within a fraction of a second even while the scenario
// is still running, wholly by close() or by the process's exit; readHistory rebuilds the same ops; a file that
// cannot be written stops the file, not the history.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { History, readHistory } from './history.ts';

const dirs: string[] = [];
const tmpFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-history-test-'));
  dirs.push(dir);
  return path.join(dir, 'history.jsonl');
};
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
/** Polls until the file holds at least `n` lines (true), or gives up after `ms` (false). */
async function eventually(file: string, n: number, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (lines(file).length >= n) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lines(file).length >= n;
}
const call = (i: number) => ({ process: `p${i}`, instance: i % 4, f: 'reserve', args: { seatId: `s-${i}`, userId: `u-${i}` }, phase: 'test' });

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('History file', () => {
  it('writes every line, in order, by close(), and readHistory gives back the same ops', async () => {
    const file = tmpFile();
    const h = new History(file);
    for (let i = 0; i < 500; i++) {
      const op = h.invoke(call(i), i * 10);
      if (i % 3 === 0) h.complete(op, { type: 'ok', value: { n: i }, status: 200 }, i * 10 + 5);
      else if (i % 3 === 1) h.complete(op, { type: 'fail', code: 'SEAT_TAKEN', status: 409 }, i * 10 + 7);
    }
    h.note('fault', { kind: 'partition' });
    await h.close();
    const written = lines(file).map((l) => JSON.parse(l));
    expect(written).toHaveLength(500 + 167 + 167 + 1);
    expect(written[0]).toMatchObject({ event: 'invoke', index: 0, timeUs: 0 });
    expect(written[1]).toMatchObject({ event: 'ok', index: 0, timeUs: 5 });
    expect(written.at(-1)).toMatchObject({ event: 'fault', kind: 'partition' });
    expect(readHistory(file)).toEqual(h.ops.map((op) => ({ ...op, value: op.value, code: op.code, error: op.error, status: op.status })));
  });

  it('reaches the file within a fraction of a second while the scenario still runs (no close)', async () => {
    const file = tmpFile();
    const h = new History(file);
    h.complete(h.invoke(call(1)), { type: 'ok', status: 200 });
    expect(await eventually(file, 2)).toBe(true);
    await h.close();
    expect(lines(file)).toHaveLength(2);
  });

  it('writes a large batch at once, before its timer', async () => {
    const file = tmpFile();
    const h = new History(file, undefined, 60_000); // a timer that never fires here: only the size can flush
    const big = 'x'.repeat(2000);
    for (let i = 0; i < 40; i++) h.note('big', { big, i }); // 80 KB: over one batch
    expect(await eventually(file, 32)).toBe(true);
    expect(lines(file).length).toBeLessThan(40); // the rest waits for its batch to fill, or for close()
    await h.close();
    expect(lines(file)).toHaveLength(40);
  });

  it('writes what was batched when the process exits before close() (process.exit after a Ctrl-C cleanup)', () => {
    const file = tmpFile();
    const script = path.join(path.dirname(file), 'exit.mts');
    fs.writeFileSync(
      script,
      `import { History } from ${JSON.stringify(path.resolve('harness/history/history.ts'))};\n` +
        `const h = new History(${JSON.stringify(file)}, undefined, 60_000);\n` +
        `for (let i = 0; i < 5; i++) h.complete(h.invoke({ process: 'p', instance: 0, f: 'f', args: {}, phase: 'x' }), { type: 'ok' });\n` +
        `process.exit(0);\n`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(lines(file)).toHaveLength(10);
  });

  it.runIf(fs.existsSync('/dev/full'))('a file that cannot be written (a full disk) stops the file, never the history', async () => {
    const h = new History('/dev/full', undefined, 60_000);
    const big = 'x'.repeat(70_000);
    h.note('big', { big }); // over one batch: written at once, and refused
    expect(h.writeError).toMatch(/ENOSPC|no space/i);
    h.complete(h.invoke(call(1)), { type: 'ok', status: 200 });
    expect(h.ops).toHaveLength(1);
    await h.close();
  });

  it('without a file keeps the ops in memory only, and close() is harmless twice', async () => {
    const h = new History();
    h.complete(h.invoke(call(1)), { type: 'info', error: 'timeout' });
    await h.close();
    await h.close();
    expect(h.ops).toHaveLength(1);
    expect(h.ops[0]).toMatchObject({ type: 'info', error: 'timeout' });
  });
});

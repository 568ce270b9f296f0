// The incremental request parser fed every split of a stream of multibulk, empty and inline commands: it must
// report the same commands and raw bytes however the stream is cut.

import { describe, expect, it } from 'vitest';
import { RequestParser } from './resp-request-parser.ts';

const resp = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((a) => [Buffer.from(`$${Buffer.byteLength(a)}\r\n`), Buffer.from(a), Buffer.from('\r\n')])]);

describe('RESP request parser, every split of the input', () => {
  it('request parser: same commands and raw bytes however the stream is cut', () => {
    const input = Buffer.concat([
      resp('SET', 'k', Buffer.from([0, 13, 10, 255])),
      Buffer.from('PING\r\n'),
      Buffer.from('*0\r\n'),
      resp('MSET', 'a', '', 'b', 'x'.repeat(40)),
      Buffer.from('set "quoted key" \'v 1\' \\x41\r\n'),
    ]);
    const run = (cuts: number[]): string[] => {
      const events: string[] = [];
      let raw: Buffer[] = [];
      const parser = new RequestParser(
        {
          begin: () => (raw = []),
          count: (n) => events.push(`count ${n}`),
          abandon: () => events.push('abandon'),
          argStart: () => 1024,
          bytes: (b) => raw.push(Buffer.from(b)),
          argDone: (i, captured, len) => events.push(`arg ${i} ${len} ${captured.toString('hex')}`),
          done: () => events.push(`done ${Buffer.concat(raw).toString('hex')}`),
          inline: (args) => events.push(`inline ${args.map((a) => a.toString('hex')).join(' ')}`),
          garbage: (reason) => events.push(`garbage ${reason}`),
        },
        () => ({ maxArgs: 1 << 20, maxBulk: 1 << 29 }),
      );
      let at = 0;
      for (const cut of [...cuts, input.length]) {
        parser.feed(input.subarray(at, cut));
        at = cut;
      }
      return events;
    };
    const whole = run([]);
    expect(whole.filter((e) => e.startsWith('done'))).toHaveLength(2);
    expect(whole).toContain(`done ${resp('SET', 'k', Buffer.from([0, 13, 10, 255])).toString('hex')}`);
    expect(whole).toContain(`inline ${['set', 'quoted key', 'v 1', '\\x41'].map((s) => Buffer.from(s).toString('hex')).join(' ')}`);
    expect(whole).toContain('abandon');
    for (let a = 1; a < input.length; a++) expect(run([a]), `cut at ${a}`).toEqual(whole);
    for (let a = 1; a < input.length; a += 3) for (let b = a + 1; b < input.length; b += 5) expect(run([a, b]), `cuts at ${a}, ${b}`).toEqual(whole);
    expect(run(Array.from({ length: input.length - 1 }, (_, i) => i + 1))).toEqual(whole); // byte by byte
  });
});

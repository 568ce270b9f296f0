// The incremental reply parser fed every split of a stream of RESP2 and RESP3 replies: it must find the same
// frame boundaries however the stream is cut.

import { describe, expect, it } from 'vitest';
import { ReplyParser } from './resp-reply-parser.ts';

describe('RESP reply parser, every split of the input', () => {
  it('reply parser: frame boundaries of RESP2/RESP3 replies however the stream is cut', () => {
    const frames = [
      '+OK\r\n',
      '-ERR bad thing\r\n',
      ':42\r\n',
      '$-1\r\n',
      '*-1\r\n',
      '$5\r\nhe\r\nl\r\n',
      '*3\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n*0\r\n',
      '%2\r\n+id\r\n:7\r\n+mode\r\n*1\r\n_\r\n',
      '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nhey\r\n',
      '|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n',
      '~2\r\n,1.5\r\n#t\r\n',
      '!11\r\nSYNTAX oops\r\n',
      '=8\r\ntxt:abcd\r\n',
      '(12345678901234567890\r\n',
    ];
    const input = Buffer.from(frames.join(''));
    const run = (cuts: number[]): string[] => {
      const got: string[] = [];
      let cur: Buffer[] = [];
      const parser = new ReplyParser({
        frameStart: () => (cur = []),
        bytes: (b) => cur.push(Buffer.from(b)),
        frameEnd: (type, text) => got.push(`${String.fromCharCode(type)} ${text ?? ''} | ${Buffer.concat(cur).toString()}`),
        fail: () => got.push('fail'),
      });
      let at = 0;
      for (const cut of [...cuts, input.length]) {
        parser.feed(input.subarray(at, cut));
        at = cut;
      }
      return got;
    };
    const whole = run([]);
    expect(whole.map((g) => g.split(' | ')[1])).toEqual(frames);
    expect(whole[1]).toBe('- ERR bad thing | -ERR bad thing\r\n');
    expect(whole[9].startsWith('$ ')).toBe(true); // the attribute belongs to the reply after it
    expect(whole[11].startsWith('! SYNTAX oops')).toBe(true);
    for (let a = 1; a < input.length; a++) expect(run([a]), `cut at ${a}`).toEqual(whole);
    expect(run(Array.from({ length: input.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });
});

describe('RESP reply parser, a reply line over its 1 MiB bound', () => {
  it('hands every byte on exactly once: what it passed as a frame, then the rest raw', () => {
    const line = Buffer.concat([Buffer.from('-ERR '), Buffer.alloc(1_200_000, 0x61), Buffer.from('\r\n')]);
    const out: Buffer[] = [];
    let failed = 0;
    const parser = new ReplyParser({ frameStart: () => {}, bytes: (b) => out.push(Buffer.from(b)), frameEnd: () => {}, fail: (rest) => (failed++, out.push(Buffer.from(rest))) });
    // Fed in 64 KiB chunks until the parser gives up; the caller then passes the remaining chunks raw.
    let at = 0;
    for (; at < line.length && !failed; at += 65536) parser.feed(line.subarray(at, at + 65536));
    out.push(line.subarray(at));
    expect(failed).toBe(1);
    expect(Buffer.concat(out).equals(line)).toBe(true);
  });
});

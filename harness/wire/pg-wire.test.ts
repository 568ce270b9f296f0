// Unit tests of the PostgreSQL wire decoder on hand-built byte sequences: chunking at every boundary, huge
// skipped messages without buffering, truncation, bind parameter formats, secrets never recorded, garbage;
// and of the JSON Lines writer the records go to (sql-log.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createPgWireDecoder, type SqlRecord } from './pg-wire.ts';
import { openSqlLog } from './sql-log.ts';

// ---- message builders (frontend and backend) ----

function msg(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
function untyped(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([i32(body.length + 4), body]);
}

const fe = {
  sslRequest: () => untyped(i32(80877103)),
  gssencRequest: () => untyped(i32(80877104)),
  cancel: (pid: number, secret: number) => untyped(i32(80877102), i32(pid), i32(secret)),
  startup: (params: Record<string, string>) =>
    untyped(i32(196608), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])),
  password: (pw: string) => msg('p', cstr(pw)),
  saslInitial: (mech: string, data: string) => msg('p', cstr(mech), i32(Buffer.byteLength(data)), Buffer.from(data)),
  query: (sql: string) => msg('Q', cstr(sql)),
  parse: (name: string, sql: string, types: number[] = []) => msg('P', cstr(name), cstr(sql), i16(types.length), ...types.map(i32)),
  bind: (portal: string, stmt: string, formats: number[], values: (Buffer | string | null)[], resultFormats: number[] = []) =>
    msg(
      'B',
      cstr(portal),
      cstr(stmt),
      i16(formats.length),
      ...formats.map(i16),
      i16(values.length),
      ...values.flatMap((v) => {
        if (v === null) return [i32(-1)];
        const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
        return [i32(b.length), b];
      }),
      i16(resultFormats.length),
      ...resultFormats.map(i16),
    ),
  describe: (kind: 'S' | 'P', name: string) => msg('D', Buffer.from(kind), cstr(name)),
  execute: (portal: string, maxRows = 0) => msg('E', cstr(portal), i32(maxRows)),
  sync: () => msg('S'),
  flush: () => msg('H'),
  copyData: (data: string) => msg('d', Buffer.from(data)),
  copyDone: () => msg('c'),
  copyFail: (why: string) => msg('f', cstr(why)),
  terminate: () => msg('X'),
};

const be = {
  authOk: () => msg('R', i32(0)),
  authSasl: () => msg('R', i32(10), cstr('SCRAM-SHA-256'), Buffer.from([0])),
  paramStatus: (k: string, v: string) => msg('S', cstr(k), cstr(v)),
  keyData: (pid: number, secret: number) => msg('K', i32(pid), i32(secret)),
  ready: (status: string) => msg('Z', Buffer.from(status)),
  rowDescription: (names: string[]) =>
    msg('T', i16(names.length), ...names.flatMap((n) => [cstr(n), i32(0), i16(0), i32(23), i16(4), i32(-1), i16(0)])),
  dataRow: (values: (Buffer | null)[]) =>
    msg('D', i16(values.length), ...values.flatMap((v) => (v === null ? [i32(-1)] : [i32(v.length), v]))),
  complete: (tag: string) => msg('C', cstr(tag)),
  error: (code: string, message: string) =>
    msg('E', Buffer.from('S'), cstr('ERROR'), Buffer.from('V'), cstr('ERROR'), Buffer.from('C'), cstr(code), Buffer.from('M'), cstr(message), Buffer.from([0])),
  notice: (message: string) => msg('N', Buffer.from('S'), cstr('NOTICE'), Buffer.from('M'), cstr(message), Buffer.from([0])),
  parseComplete: () => msg('1'),
  bindComplete: () => msg('2'),
  noData: () => msg('n'),
  copyInResponse: () => msg('G', Buffer.from([0]), i16(1), i16(0)),
};

type Step = ['c' | 's', Buffer];

/** A conversation touching every recorded kind, in causal order. */
function sampleConversation(): Step[] {
  return [
    ['c', fe.sslRequest()],
    ['s', Buffer.from('N')],
    ['c', fe.startup({ user: 'alice', database: 'shop', application_name: 'app' })],
    ['s', be.authSasl()],
    ['c', fe.saslInitial('SCRAM-SHA-256', 'n,,n=alice,r=SECRETNONCE')],
    ['s', Buffer.concat([be.authOk(), be.paramStatus('server_version', '15.0'), be.keyData(42, 777), be.ready('I')])],
    ['c', fe.query('SELECT 1 AS one')],
    ['s', Buffer.concat([be.rowDescription(['one']), be.dataRow([Buffer.from('1')]), be.complete('SELECT 1'), be.ready('I')])],
    ['c', Buffer.concat([fe.parse('', 'SELECT $1::int + $2::int', [23, 23]), fe.bind('', '', [], ['1', '2']), fe.describe('P', ''), fe.execute(''), fe.sync()])],
    ['s', Buffer.concat([be.parseComplete(), be.bindComplete(), be.rowDescription(['?column?']), be.dataRow([Buffer.from('3')]), be.complete('SELECT 1'), be.ready('I')])],
    ['c', fe.query('BEGIN')],
    ['s', Buffer.concat([be.complete('BEGIN'), be.ready('T')])],
    ['c', Buffer.concat([fe.parse('s1', 'UPDATE t SET v = $1 WHERE id = $2'), fe.bind('p1', 's1', [1, 0], [Buffer.from([0xde, 0xad]), null]), fe.execute('p1', 10), fe.sync()])],
    ['s', Buffer.concat([be.parseComplete(), be.bindComplete(), be.noData(), be.complete('UPDATE 1'), be.ready('T')])],
    ['c', fe.query('SELECT 1/0')],
    ['s', Buffer.concat([be.notice('hello'), be.error('22012', 'division by zero'), be.ready('E')])],
    ['c', fe.query('ROLLBACK')],
    ['s', Buffer.concat([be.complete('ROLLBACK'), be.ready('I')])],
    ['c', fe.query('COPY t FROM STDIN')],
    ['s', be.copyInResponse()],
    ['c', Buffer.concat([fe.copyData('1\tsecret-row-data\n'), fe.copyData('2\tmore-row-data\n'), fe.copyDone()])],
    ['s', Buffer.concat([be.complete('COPY 2'), be.ready('I')])],
    ['c', fe.terminate()],
  ];
}

function decoderWith(options: { tag?: string; maxMessageBytes?: number } = {}) {
  const records: SqlRecord[] = [];
  const decoder = createPgWireDecoder({ conn: 7, nowUs: () => 1, emit: (r) => records.push(r), ...options });
  return { decoder, records };
}

/** Feed the conversation, each step cut into pieces by `cuts(stepIndex, bytes)`. */
function run(steps: Step[], cuts: (index: number, bytes: Buffer) => number[] = () => []): SqlRecord[] {
  const { decoder, records } = decoderWith();
  steps.forEach(([dir, bytes], index) => {
    let from = 0;
    for (const at of [...cuts(index, bytes), bytes.length]) {
      const piece = bytes.subarray(from, at);
      if (dir === 'c') decoder.fromClient(piece);
      else decoder.fromServer(piece);
      from = at;
    }
  });
  decoder.close('end');
  return records;
}

describe('pg wire decoder', () => {
  it('decodes a whole conversation into the expected records', () => {
    const records = run(sampleConversation());
    const base = { t: 1, conn: 7 };
    expect(records).toEqual([
      { ...base, kind: 'ssl', message: 'SSLRequest' },
      { ...base, kind: 'startup', user: 'alice', database: 'shop' },
      { ...base, kind: 'ready', status: 'I' },
      { ...base, kind: 'query', sql: 'SELECT 1 AS one' },
      { ...base, kind: 'complete', commandTag: 'SELECT 1' },
      { ...base, kind: 'ready', status: 'I' },
      { ...base, kind: 'parse', sql: 'SELECT $1::int + $2::int' },
      { ...base, kind: 'bind', params: ['1', '2'] },
      { ...base, kind: 'execute' },
      { ...base, kind: 'complete', commandTag: 'SELECT 1' },
      { ...base, kind: 'ready', status: 'I' },
      { ...base, kind: 'query', sql: 'BEGIN' },
      { ...base, kind: 'complete', commandTag: 'BEGIN' },
      { ...base, kind: 'ready', status: 'T' },
      { ...base, kind: 'parse', name: 's1', sql: 'UPDATE t SET v = $1 WHERE id = $2' },
      { ...base, kind: 'bind', name: 's1', portal: 'p1', params: ['\\xdead', null] },
      { ...base, kind: 'execute', portal: 'p1' },
      { ...base, kind: 'complete', commandTag: 'UPDATE 1' },
      { ...base, kind: 'ready', status: 'T' },
      { ...base, kind: 'query', sql: 'SELECT 1/0' },
      { ...base, kind: 'error', code: '22012', message: 'division by zero' },
      { ...base, kind: 'ready', status: 'E' },
      { ...base, kind: 'query', sql: 'ROLLBACK' },
      { ...base, kind: 'complete', commandTag: 'ROLLBACK' },
      { ...base, kind: 'ready', status: 'I' },
      { ...base, kind: 'query', sql: 'COPY t FROM STDIN' },
      { ...base, kind: 'copy', bytes: 34, message: 'done' },
      { ...base, kind: 'complete', commandTag: 'COPY 2' },
      { ...base, kind: 'ready', status: 'I' },
      { ...base, kind: 'terminate' },
      { ...base, kind: 'close', message: 'end' },
    ]);
    const text = JSON.stringify(records);
    expect(text).not.toContain('SECRETNONCE');
    expect(text).not.toContain('row-data');
  });

  it('gives identical records whatever the chunking: every 2-way split of every step, 3-way splits, byte by byte', () => {
    const steps = sampleConversation();
    const expected = run(steps);
    steps.forEach(([, bytes], index) => {
      for (let at = 0; at <= bytes.length; at++) {
        expect(run(steps, (i) => (i === index ? [at] : []))).toEqual(expected);
        const second = Math.min(bytes.length, at + 1 + ((at * 7) % 13));
        expect(run(steps, (i) => (i === index ? [at, second] : []))).toEqual(expected);
      }
    });
    expect(run(steps, (_, bytes) => Array.from({ length: bytes.length }, (_, k) => k))).toEqual(expected);
    // both directions as two single chunks each, split at every boundary (the server's 'N' answered in between)
    const clientAll = Buffer.concat(steps.filter(([d]) => d === 'c').slice(1).map(([, b]) => b));
    const serverAll = Buffer.concat(steps.filter(([d]) => d === 's').slice(1).map(([, b]) => b));
    for (let at = 0; at <= Math.max(clientAll.length, serverAll.length); at += 3) {
      const { decoder, records } = decoderWith();
      decoder.fromClient(fe.sslRequest());
      decoder.fromServer(Buffer.from('N'));
      decoder.fromClient(clientAll.subarray(0, at));
      decoder.fromServer(serverAll.subarray(0, at));
      decoder.fromClient(clientAll.subarray(at));
      decoder.fromServer(serverAll.subarray(at));
      decoder.close('end');
      // the same records per direction; only the interleaving of the two directions may differ
      const key = (r: SqlRecord) => JSON.stringify(r);
      expect(records.map(key).sort()).toEqual(expected.map(key).sort());
    }
  });

  it('skips a 10 MB DataRow fed in 64 KiB chunks without buffering it', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(fe.startup({ user: 'u' }));
    decoder.fromClient(fe.query('SELECT big'));
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const stream = Buffer.concat([be.rowDescription(['big']), be.dataRow([big]), be.complete('SELECT 1'), be.ready('I')]);
    let maxBuffered = 0;
    for (let at = 0; at < stream.length; at += 64 * 1024) {
      decoder.fromServer(stream.subarray(at, at + 64 * 1024));
      maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
    }
    expect(maxBuffered).toBe(0);
    expect(records.map((r) => r.kind)).toEqual(['startup', 'query', 'complete', 'ready']);
    expect(records[2].commandTag).toBe('SELECT 1');
  });

  it('cuts a 100 KiB query at 64 KiB, whole or in chunks, buffering at most the cap', () => {
    const sql = 'SELECT ' + "'é'||".repeat(20 * 1024) + "'x'"; // ~100 KiB, two-byte characters throughout
    expect(Buffer.byteLength(sql)).toBeGreaterThan(100 * 1024);
    for (const chunkSize of [Infinity, 64 * 1024, 1000, 7]) {
      const { decoder, records } = decoderWith();
      decoder.fromClient(fe.startup({ user: 'u' }));
      const bytes = fe.query(sql);
      let maxBuffered = 0;
      for (let at = 0; at < bytes.length; at += Math.min(chunkSize, bytes.length)) {
        decoder.fromClient(bytes.subarray(at, at + Math.min(chunkSize, bytes.length)));
        maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
      }
      decoder.fromClient(fe.query('SELECT 2'));
      expect(maxBuffered).toBeLessThanOrEqual(64 * 1024);
      const [, query, next] = records;
      expect(query.kind).toBe('query');
      expect(query.truncated).toBe(true);
      expect(Buffer.byteLength(query.sql!)).toBeLessThanOrEqual(64 * 1024);
      expect(Buffer.byteLength(query.sql!)).toBeGreaterThan(64 * 1024 - 4);
      expect(sql.startsWith(query.sql!)).toBe(true); // no half character at the cut
      expect(next).toMatchObject({ kind: 'query', sql: 'SELECT 2' });
      expect(next.truncated).toBeUndefined();
    }
  });

  it('records bind parameters: text, binary as \\x hex, NULL, empty, per-parameter formats, and cuts each at 4 KiB', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(fe.startup({ user: 'u' }));
    decoder.fromClient(fe.bind('', 'st', [], ['abc', null, '', 'ünï']));
    decoder.fromClient(fe.bind('', '', [1], [Buffer.from([0, 1, 0xff]), null, Buffer.alloc(0)]));
    decoder.fromClient(fe.bind('', '', [0, 1, 0], ['7', Buffer.from('hi'), '8']));
    const bigText = 'y'.repeat(10_000);
    decoder.fromClient(fe.bind('', '', [0, 1], [bigText, Buffer.alloc(5000, 0xab)]));
    expect(records.slice(1)).toEqual([
      { t: 1, conn: 7, kind: 'bind', name: 'st', params: ['abc', null, '', 'ünï'] },
      { t: 1, conn: 7, kind: 'bind', params: ['\\x0001ff', null, '\\x'] },
      { t: 1, conn: 7, kind: 'bind', params: ['7', '\\x6869', '8'] },
      { t: 1, conn: 7, kind: 'bind', params: ['y'.repeat(4096), '\\x' + 'ab'.repeat(4096)], truncated: true },
    ]);
  });

  it('streams a bind with a 20 MB parameter, keeping the parameters after it', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(fe.startup({ user: 'u' }));
    const bytes = fe.bind('p', 'ins', [1, 0], [Buffer.alloc(20 * 1024 * 1024, 1), '12345']);
    let maxBuffered = 0;
    for (let at = 0; at < bytes.length; at += 65536) {
      decoder.fromClient(bytes.subarray(at, at + 65536));
      maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
    }
    expect(maxBuffered).toBeLessThanOrEqual(4096);
    expect(records[1]).toEqual({ t: 1, conn: 7, kind: 'bind', name: 'ins', portal: 'p', params: ['\\x' + '01'.repeat(4096), '12345'], truncated: true });
  });

  it('decodes a bind with 300 parameters and per-parameter formats the same whole or byte by byte', () => {
    const values = Array.from({ length: 300 }, (_, k) => (k % 3 === 0 ? null : k % 3 === 1 ? String(k) : Buffer.from([k & 0xff, k >> 8])));
    const bytes = fe.bind('portal-name', 'statement-name', values.map((v) => (Buffer.isBuffer(v) ? 1 : 0)), values, [1, 1]);
    const whole = decoderWith();
    whole.decoder.fromClient(Buffer.concat([fe.startup({ user: 'u' }), bytes]));
    const split = decoderWith();
    split.decoder.fromClient(fe.startup({ user: 'u' }));
    for (let at = 0; at < bytes.length; at++) split.decoder.fromClient(bytes.subarray(at, at + 1));
    expect(split.records).toEqual(whole.records);
    const params = whole.records[1].params!;
    expect(params).toHaveLength(300);
    expect(params[299]).toBe('\\x2b01');
    expect(params[298]).toBe('298');
    expect(params[297]).toBeNull();
    expect(params[2]).toBe('\\x0200');
    expect(whole.records[1]).toMatchObject({ name: 'statement-name', portal: 'portal-name' });
  });

  it('stops recording parameters past the 64 KiB budget', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(fe.startup({ user: 'u' }));
    decoder.fromClient(fe.bind('', '', [], Array.from({ length: 40 }, () => 'z'.repeat(4096))));
    decoder.fromClient(fe.query('SELECT after'));
    expect(records[1].params).toHaveLength(16);
    expect(records[1].truncated).toBe(true);
    expect(records[2]).toMatchObject({ kind: 'query', sql: 'SELECT after' });
  });

  it('never records a password, SASL or GSS response', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(fe.startup({ user: 'bob', database: 'db' }));
    decoder.fromServer(msg('R', i32(3))); // cleartext password requested
    decoder.fromClient(fe.password('hunter2-cleartext'));
    decoder.fromServer(msg('R', i32(5), Buffer.from([1, 2, 3, 4]))); // md5
    decoder.fromClient(fe.password('md5deadbeefcafe'));
    decoder.fromServer(be.authSasl());
    decoder.fromClient(fe.saslInitial('SCRAM-SHA-256', 'n,,n=,r=clientnonce123'));
    decoder.fromClient(msg('p', Buffer.from('c=biws,r=clientnonce123,p=proofproofproof')));
    decoder.fromServer(Buffer.concat([be.authOk(), be.ready('I')]));
    const text = JSON.stringify(records);
    for (const secret of ['hunter2', 'deadbeef', 'clientnonce', 'proofproof']) expect(text).not.toContain(secret);
    expect(records.map((r) => r.kind)).toEqual(['startup', 'ready']);
  });

  it('emits one garbage record on a bogus length or type, stops that direction only, and never throws', () => {
    const cases: Buffer[] = [
      Buffer.from([0x51, 0, 0, 0, 2, 0x41, 0x42]), // Q with length 2
      Buffer.from([0x07, 0, 0, 0, 8, 1, 2, 3, 4]), // unknown type
      Buffer.from([0x53, 0, 0, 0, 9, 0, 0, 0, 0, 0]), // Sync with a body
      Buffer.from([0x51, 0xff, 0xff, 0xff, 0xff]), // negative length
    ];
    for (const bad of cases) {
      const { decoder, records } = decoderWith();
      decoder.fromClient(fe.startup({ user: 'u' }));
      decoder.fromClient(bad);
      decoder.fromClient(fe.query('SELECT not-decoded'));
      decoder.fromServer(Buffer.concat([be.complete('SELECT 1'), be.ready('I')]));
      expect(records.map((r) => r.kind)).toEqual(['startup', 'garbage', 'complete', 'ready']);
      expect(records[1].message).toMatch(/^client: /);
    }
    // garbage before the startup packet: an HTTP request, a startup length of 3, an unknown protocol
    for (const bad of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0, 0, 0, 3]), untyped(i32(0x00020000))]) {
      const { decoder, records } = decoderWith();
      decoder.fromClient(bad);
      decoder.fromClient(fe.startup({ user: 'u' }));
      expect(records.map((r) => r.kind)).toEqual(['garbage']);
    }
    // a bad ReadyForQuery status on the server side
    const { decoder, records } = decoderWith();
    decoder.fromServer(Buffer.concat([msg('Z', Buffer.from('Q')), be.complete('SELECT 1')]));
    expect(records.map((r) => r.kind)).toEqual(['garbage']);
    expect(records[0].message).toMatch(/^server: /);
  });

  it('survives random bytes anywhere in the stream', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const conversation = sampleConversation();
    for (let round = 0; round < 300; round++) {
      const { decoder, records } = decoderWith();
      const target = Math.floor(next() * conversation.length);
      conversation.forEach(([dir, bytes], index) => {
        let piece = bytes;
        if (index === target) {
          piece = Buffer.from(bytes);
          const flips = 1 + Math.floor(next() * 4);
          for (let k = 0; k < flips; k++) piece[Math.floor(next() * piece.length)] = Math.floor(next() * 256);
        }
        if (dir === 'c') decoder.fromClient(piece);
        else decoder.fromServer(piece);
      });
      decoder.fromClient(Buffer.from(Array.from({ length: 64 }, () => Math.floor(next() * 256))));
      decoder.close('end');
      expect(records.filter((r) => r.kind === 'garbage').length).toBeLessThanOrEqual(2);
      expect(records.at(-1)?.kind).toBe('close');
    }
  });

  it('handles CancelRequest, GSSENCRequest and an accepted SSL upgrade', () => {
    const cancel = decoderWith({ tag: 'setup' });
    cancel.decoder.fromClient(fe.cancel(1234, 987654321));
    cancel.decoder.close('end');
    expect(cancel.records).toEqual([
      { t: 1, conn: 7, tag: 'setup', kind: 'cancel' },
      { t: 1, conn: 7, tag: 'setup', kind: 'close', message: 'end' },
    ]);
    expect(JSON.stringify(cancel.records)).not.toContain('987654321');

    const gss = decoderWith();
    gss.decoder.fromClient(fe.gssencRequest());
    gss.decoder.fromServer(Buffer.from('N'));
    gss.decoder.fromClient(fe.sslRequest());
    gss.decoder.fromServer(Buffer.concat([Buffer.from('N'), be.authOk(), be.ready('I')]));
    gss.decoder.fromClient(Buffer.concat([fe.startup({ user: 'g', database: 'd' }), fe.query('SELECT 1')]));
    expect(gss.records.map((r) => [r.kind, r.message ?? r.sql ?? r.status ?? r.user])).toEqual([
      ['ssl', 'GSSENCRequest'],
      ['ssl', 'SSLRequest'],
      ['ready', 'I'],
      ['startup', 'g'],
      ['query', 'SELECT 1'],
    ]);

    const tls = decoderWith();
    tls.decoder.fromClient(fe.sslRequest());
    tls.decoder.fromServer(Buffer.from('S'));
    tls.decoder.fromClient(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    tls.decoder.fromServer(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7a]));
    expect(tls.records.map((r) => r.kind)).toEqual(['ssl', 'ssl']);
    expect(tls.records[1].message).toMatch(/accepted/);
  });

  it('close emits one close record (after an interrupted COPY), then nothing more; a throwing sink is contained', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(Buffer.concat([fe.startup({ user: 'u' }), fe.query('COPY t FROM STDIN'), fe.copyData('abc\n')]));
    decoder.close('reset');
    decoder.close('end');
    decoder.fromClient(fe.query('SELECT late'));
    expect(records.map((r) => [r.kind, r.message])).toEqual([
      ['startup', undefined],
      ['query', undefined],
      ['copy', 'interrupted'],
      ['close', 'reset'],
    ]);
    expect(records[2].bytes).toBe(4);

    const failing = createPgWireDecoder({ conn: 1, nowUs: () => 0, emit: () => { throw new Error('sink down'); } });
    expect(() => {
      failing.fromClient(Buffer.concat([fe.startup({ user: 'u' }), fe.query('SELECT 1')]));
      failing.fromServer(be.ready('I'));
      failing.close('end');
    }).not.toThrow();
  });

  it('records a failed COPY with its reason and byte count', () => {
    const { decoder, records } = decoderWith();
    decoder.fromClient(Buffer.concat([fe.startup({ user: 'u' }), fe.query('COPY t FROM STDIN'), fe.copyData('12345'), fe.copyFail('client gave up')]));
    expect(records[2]).toEqual({ t: 1, conn: 7, kind: 'copy', bytes: 5, message: 'failed: client gave up' });
  });
});

describe('sql log (JSON Lines)', () => {
  it('writes every record of a decoded conversation, one per line, in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-sqllog-'));
    try {
      const file = path.join(dir, 'sql.jsonl');
      const log = openSqlLog(file);
      const direct: SqlRecord[] = [];
      const decoder = createPgWireDecoder({ conn: 3, tag: '1', nowUs: () => 5, emit: log.record });
      const twin = createPgWireDecoder({ conn: 3, tag: '1', nowUs: () => 5, emit: (r) => direct.push(r) });
      const steps = sampleConversation(); // startup once, then the queries 500 times, then Terminate
      const feed = [...steps.slice(0, 6), ...Array.from({ length: 500 }, () => steps.slice(6, -1)).flat(), ...steps.slice(-1)];
      for (const [dir, bytes] of feed) {
        for (const d of [decoder, twin]) (dir === 'c' ? d.fromClient : d.fromServer)(bytes);
      }
      decoder.close('end');
      twin.close('end');
      await log.close();
      await log.close();
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as SqlRecord);
      expect(log.counts()).toEqual({ written: lines.length, dropped: 0 });
      expect(lines.length).toBeGreaterThan(1000);
      expect(lines).toEqual(direct);
      expect(lines.every((l) => l.conn === 3 && l.tag === '1')).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batches records over time into few writes, and writes them without waiting for close', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-sqllog-'));
    const writes = vi.spyOn(fs, 'write');
    try {
      const file = path.join(dir, 'sql.jsonl');
      const log = openSqlLog(file);
      // 20 turns of the event loop, 10 records each (a write per turn was the old batching: 20 writes).
      for (let turn = 0; turn < 20; turn++) {
        for (let k = 0; k < 10; k++) log.record({ t: turn * 10 + k, conn: 1, kind: 'query', sql: `SELECT ${turn * 10 + k}` });
        await new Promise((r) => setImmediate(r));
      }
      const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
      for (let waited = 0; lines() < 200 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(lines()).toBe(200); // on disk before close
      const mine = writes.mock.calls.filter((c) => typeof c[0] === 'number').length;
      expect(mine).toBeGreaterThan(0);
      expect(mine).toBeLessThan(10); // one write per 50 ms, however many turns: 1 on an idle machine
      await log.close();
      expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).t)).toEqual(Array.from({ length: 200 }, (_, k) => k));
    } finally {
      writes.mockRestore();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at maxBytes, counts what it dropped and says so on the last line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-sqllog-'));
    try {
      const file = path.join(dir, 'sql.jsonl');
      const log = openSqlLog(file, { maxBytes: 1000 });
      for (let k = 0; k < 100; k++) log.record({ t: k, conn: 1, kind: 'query', sql: `SELECT ${k}` });
      await log.close();
      log.record({ t: 999, conn: 1, kind: 'query', sql: 'late' });
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      const { written, dropped } = log.counts();
      expect(written + dropped).toBe(101);
      expect(written).toBeGreaterThan(10);
      expect(fs.statSync(file).size).toBeLessThanOrEqual(1000 + 30);
      expect(lines.slice(0, -1).map((l) => l.sql)).toEqual(Array.from({ length: written }, (_, k) => `SELECT ${k}`));
      expect(lines.at(-1)).toEqual({ dropped: dropped - 1 }); // the late record came after the file was closed
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

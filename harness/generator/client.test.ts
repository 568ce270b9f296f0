// The client's waiting rules (CONTRACT §8), on real sockets: a call answered after the answer deadline is
// recorded with its answer and real latency while the system keeps answering others (a lock convoy); a call
// nothing answers is given up once the whole system went silent for a deadline (a hang); a call with a deadline
// of its own (a provider, a buyer who gives up) ends there; and the hard limit bounds everything.

import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from './client.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { History } from '../history/history.ts';
import type { CallSpec } from '../scenario.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

/** A server answering `/wait/<ms>` after that many ms (`/never` never answers). */
async function slowServer(): Promise<string> {
  const server = http.createServer((req, res) => {
    const m = /^\/wait\/(\d+)/.exec(req.url ?? '');
    if (!m) return; // /never: hold the request
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ waited: Number(m[1]) })), Number(m[1]));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const spec = (path: string, timeoutMs?: number): CallSpec => ({
  process: path, instance: 0, f: 'get', args: { path }, phase: 'test', timeoutMs,
  request: { method: 'GET', path },
  decode: (res) => (res.status === 200 ? { type: 'ok', value: res.body } : { type: 'info', error: `status ${res.status}` }),
});

describe('client waiting rules', () => {
  it('a late answer counts while other calls keep being answered (slow, not failed)', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 300, hardLimitMs: 10_000 });
    // A convoy: answers every 100 ms for 1.5 s; the last waits 1.2 s, four times the deadline.
    const calls = Array.from({ length: 15 }, (_, i) => client.call(spec(`/wait/${(i + 1) * 100}`)));
    const ops = await Promise.all(calls);
    expect(ops.every((op) => op.type === 'ok')).toBe(true);
    const last = ops[ops.length - 1];
    expect((last.endUs - last.startUs) / 1000).toBeGreaterThan(1400);
  }, 10_000);

  it('a call nothing answers is given up once the whole system was silent for a deadline (a hang)', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 400, hardLimitMs: 10_000 });
    const started = Date.now();
    const op = await client.call(spec('/never'));
    const tookMs = Date.now() - started;
    expect(op.type).toBe('info');
    expect(op.error).toMatch(/hung: no answer within the 400 ms deadline \(waited \d+ ms\)/);
    expect(tookMs).toBeGreaterThanOrEqual(380);
    expect(tookMs).toBeLessThan(2500);
  }, 10_000);

  it('a call with its own deadline ends there even while others are answered; the hard limit bounds the rest', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 800, hardLimitMs: 1_200 });
    // Answers keep coming until 1.1 s, so the hang rule alone would wait until ~1.9 s: the hard limit ends it first.
    const [own, hard] = await Promise.all([client.call(spec('/wait/2000', 300)), client.call(spec('/never')), ...Array.from({ length: 12 }, (_, i) => client.call(spec(`/wait/${i * 100}`)))]);
    expect(own.type).toBe('info');
    expect(own.error).toMatch(/no answer within 300 ms/);
    expect(hard.type).toBe('info');
    expect((hard.endUs - hard.startUs) / 1000).toBeGreaterThanOrEqual(1150);
    expect((hard.endUs - hard.startUs) / 1000).toBeLessThan(1800);
  }, 10_000);

  it('burst calls follow the same rules', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 300, hardLimitMs: 10_000 });
    const { ops } = await client.burst(Array.from({ length: 12 }, (_, i) => spec(`/wait/${(i + 1) * 100}`)));
    expect(ops.map((o) => o.type)).toEqual(Array(12).fill('ok'));
  }, 10_000);
});

describe('StallWatchdog', () => {
  it('expires only calls past the deadline with no answer anywhere for a deadline', () => {
    let now = 0;
    const dog = new StallWatchdog({ answerDeadlineMs: 100, now: () => now });
    const expired: string[] = [];
    const unwatchA = dog.watch(() => expired.push('a'));
    now = 50;
    dog.watch(() => expired.push('b'));
    now = 120;
    dog.answered(); // progress at 120
    dog.check();
    expect(expired).toEqual([]); // a is 120 ms old, but something was answered just now
    now = 219;
    dog.check();
    expect(expired).toEqual([]);
    now = 221;
    dog.check();
    expect(expired).toEqual(['a', 'b']); // 101 ms of silence, both older than the deadline
    unwatchA();
    const dog2 = new StallWatchdog({ answerDeadlineMs: 100, now: () => now });
    dog2.watch(() => expired.push('c'));
    now += 99;
    dog2.check();
    expect(expired).not.toContain('c'); // silence counts from its own start at the earliest
    now += 2;
    dog2.check();
    expect(expired).toContain('c');
  });
});

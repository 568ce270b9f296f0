// Tests of the steady-load driver against tiny node:http servers on port 0: request accounting against
// onResult calls and what the servers saw, instance attribution, µs latencies, and unanswered requests.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runPlainAutocannon, runSteadyLoad } from './steady-load.ts';

const t0 = process.hrtime.bigint();
const nowUs = () => Number((process.hrtime.bigint() - t0) / 1000n);

interface TestServer {
  url: string;
  seen: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Answers after delayMs with {id, method, url, body}; never answers when delayMs is null. */
async function startServer(id: string, delayMs: number | null): Promise<TestServer> {
  const state = { seen: 0 };
  const server = http.createServer((req, res) => {
    state.seen++;
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    const arrived = performance.now();
    req.on('end', () => {
      if (delayMs === null) return; // hold the request forever
      const respond = () => {
        // timers may fire up to ~1 ms early (libuv's cached loop time): top up so the delay is a true minimum
        if (performance.now() - arrived < delayMs) return void setImmediate(respond);
        res.setHeader('content-type', 'application/json');
        res.statusCode = req.url?.includes('/missing') ? 404 : 200;
        res.end(JSON.stringify({ id, method: req.method, url: req.url, body }));
      };
      setTimeout(respond, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get seen() {
      return state.seen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(s);
  return s;
}

interface Seen {
  meta: { seq: number; instance: number } | undefined;
  status: number;
  body: string;
  startUs: number;
  endUs: number;
  instance: number;
}

describe('runSteadyLoad', () => {
  it('drives every target for the duration, with one onResult per request and µs latencies', async () => {
    const a = await startServer('a', 2);
    const b = await startServer('b', 2);
    const results: Seen[] = [];
    const before = nowUs();
    const out = await runSteadyLoad({
      targets: [
        { instance: 0, url: a.url },
        { instance: 1, url: `${b.url}/prefix/` },
      ],
      durationMs: 1000,
      connectionsPerTarget: 3,
      nowUs,
      makeRequest: (seq, instance) =>
        seq % 3 === 0
          ? { method: 'POST', path: `/items/${seq}`, body: { seq }, meta: { seq, instance } }
          : { method: 'GET', path: seq % 10 === 1 ? `/missing/${seq}` : `/items/${seq}`, meta: { seq, instance } },
      onResult: (meta, status, body, startUs, endUs, instance) => results.push({ meta, status, body, startUs, endUs, instance }),
    });

    // accounting: every request reported once; answered ones match the count; the servers saw them all
    const answered = results.filter((r) => r.status > 0);
    expect(answered).toHaveLength(out.requests);
    expect(results).toHaveLength(out.requests + out.unanswered);
    expect(out.unanswered).toBeLessThanOrEqual(6); // at most one in flight per connection at the end
    expect(new Set(results.map((r) => r.meta!.seq)).size).toBe(results.length);
    const served = a.seen + b.seen;
    expect(served).toBeGreaterThanOrEqual(out.requests);
    expect(served).toBeLessThanOrEqual(out.requests + out.unanswered);
    expect(out.errors).toBe(0);
    expect(out.non2xx).toBe(answered.filter((r) => r.status === 404).length);
    expect(out.non2xx).toBeGreaterThan(0);

    // plausible throughput: 6 connections, ≥ 2 ms each → at most ~3000/s; loopback on 2 cores gets well above 100/s
    expect(out.durationMs).toBeGreaterThanOrEqual(950);
    expect(out.durationMs).toBeLessThan(1600);
    expect(out.throughputPerS).toBeGreaterThan(100);
    expect(out.throughputPerS).toBeLessThan(3100);
    expect(Math.abs(out.throughputPerS - out.requests / (out.durationMs / 1000))).toBeLessThan(out.throughputPerS * 0.05);

    // each answer came from the target of its instance, with the request as built
    for (const r of answered) {
      const echoed = JSON.parse(r.body);
      expect(echoed.id).toBe(r.instance === 0 ? 'a' : 'b');
      expect(r.meta!.instance).toBe(r.instance);
      const prefix = r.instance === 1 ? '/prefix' : '';
      if (r.meta!.seq % 3 === 0) {
        expect(echoed).toMatchObject({ method: 'POST', url: `${prefix}/items/${r.meta!.seq}`, body: JSON.stringify({ seq: r.meta!.seq }) });
      } else {
        expect(echoed.method).toBe('GET');
        expect(echoed.url.startsWith(`${prefix}/`)).toBe(true);
      }
      expect(r.startUs).toBeGreaterThanOrEqual(before);
      expect(r.endUs - r.startUs).toBeGreaterThanOrEqual(2000); // the server's delay, measured per request
    }
    expect(answered.some((r) => r.instance === 0) && answered.some((r) => r.instance === 1)).toBe(true);

    // µs, not whole ms: the server adds 2 ms, so p50 ≥ 2 ms, and some latency is not a whole millisecond
    expect(out.latency.count).toBe(out.requests);
    expect(out.latency.p50Ms).toBeGreaterThanOrEqual(2);
    expect(out.latency.p50Ms).toBeLessThan(50);
    expect(out.latency.p99Ms).toBeGreaterThanOrEqual(out.latency.p50Ms);
    const fractional = [out.latency.p50Ms, out.latency.p90Ms, out.latency.meanMs].some((v) => !Number.isInteger(v));
    expect(fractional).toBe(true);
  }, 20_000);

  it('reports requests that never got an answer with status 0', async () => {
    const silent = await startServer('silent', null);
    const results: Seen[] = [];
    const out = await runSteadyLoad({
      targets: [{ instance: 0, url: silent.url }],
      durationMs: 500,
      connectionsPerTarget: 2,
      nowUs,
      makeRequest: (seq) => ({ method: 'GET', path: `/hold/${seq}`, meta: { seq, instance: 0 } }),
      onResult: (meta, status, body, startUs, endUs, instance) => results.push({ meta, status, body, startUs, endUs, instance }),
    });
    expect(out.requests).toBe(0);
    expect(out.unanswered).toBe(2);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.status).toBe(0);
      expect(r.endUs).toBeGreaterThan(r.startUs);
    }
    expect(out.latency.count).toBe(0);
  }, 10_000);

  it('stops early on abort', async () => {
    const a = await startServer('a', 1);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const out = await runSteadyLoad({
      targets: [{ instance: 0, url: a.url }],
      durationMs: 5000,
      connectionsPerTarget: 2,
      nowUs,
      makeRequest: (seq) => ({ method: 'GET', path: `/${seq}` }),
      signal: controller.signal,
    });
    expect(out.durationMs).toBeLessThan(1500);
    expect(out.requests).toBeGreaterThan(0);
  }, 10_000);
});

describe('runPlainAutocannon', () => {
  it('measures throughput of one repeated request', async () => {
    const a = await startServer('a', 0);
    const out = await runPlainAutocannon({ url: `${a.url}/base`, durationMs: 600, connections: 4, method: 'POST', path: '/plain', body: { x: 1 } });
    expect(out.requests).toBeGreaterThan(50);
    expect(out.errors).toBe(0);
    expect(out.non2xx).toBe(0);
    expect(out.throughputPerS).toBeGreaterThan(50);
    expect(Math.abs(out.throughputPerS - out.requests / (out.durationMs / 1000))).toBeLessThan(out.throughputPerS * 0.05);
    expect(a.seen).toBeGreaterThanOrEqual(out.requests);
  }, 10_000);
});

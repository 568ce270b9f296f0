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
      if (delayMs === null || req.url?.includes('/hold/')) return; // hold the request forever
      if (req.url?.includes('/drop/')) return void req.socket.destroy(); // reset mid-request
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
  error?: string;
}

const collect = (into: Seen[]) =>
  (meta: Seen['meta'], status: number, body: string, startUs: number, endUs: number, instance: number, error?: string) =>
    into.push({ meta, status, body, startUs, endUs, instance, error });

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
      onResult: collect(results),
    });

    // accounting: every request reported once; answered ones match the count; the servers saw them all
    const answered = results.filter((r) => r.status > 0);
    expect(answered).toHaveLength(out.requests);
    expect(results).toHaveLength(out.requests + out.unanswered);
    expect(out.refused).toBe(0);
    expect(out.unanswered).toBeLessThanOrEqual(6); // at most one in flight per connection at the end
    expect(results.filter((r) => r.status === 0).every((r) => r.error === 'no-response')).toBe(true);
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
      onResult: collect(results),
    });
    expect(out.requests).toBe(0);
    expect(out.unanswered).toBe(2);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r).toMatchObject({ status: 0, error: 'no-response' });
      expect(r.endUs).toBeGreaterThan(r.startUs);
    }
    expect(out.latency.count).toBe(0);
  }, 10_000);

  it('reports refused connections as never sent, and backs off instead of spinning', async () => {
    const gone = await startServer('gone', 0);
    const url = gone.url;
    await gone.close(); // nothing listens on that port any more
    const results: Seen[] = [];
    const out = await runSteadyLoad({
      targets: [{ instance: 3, url }],
      durationMs: 600,
      connectionsPerTarget: 2,
      nowUs,
      makeRequest: (seq) => ({ method: 'POST', path: `/x/${seq}`, body: { seq }, meta: { seq, instance: 3 } }),
      onResult: collect(results),
    });
    expect(out.requests).toBe(0);
    expect(out.refused).toBeGreaterThanOrEqual(2);
    expect(out.refused).toBeLessThan(60); // autocannon alone reconnects thousands of times a second
    expect(out.unanswered).toBeLessThanOrEqual(2); // a connect still in progress when the run stopped
    expect(results).toHaveLength(out.refused + out.unanswered);
    expect(results.filter((r) => r.error === 'refused')).toHaveLength(out.refused);
    expect(results.every((r) => r.status === 0 && r.instance === 3)).toBe(true);
  }, 10_000);

  it('reports a request whose connection was reset when it happens, and keeps going', async () => {
    const a = await startServer('a', 1);
    const results: Seen[] = [];
    const out = await runSteadyLoad({
      targets: [{ instance: 0, url: a.url }],
      durationMs: 800,
      connectionsPerTarget: 2,
      nowUs,
      makeRequest: (seq) => ({ method: 'GET', path: seq % 7 === 3 ? `/drop/${seq}` : `/ok/${seq}`, meta: { seq, instance: 0 } }),
      onResult: collect(results),
    });
    const runEndUs = Math.max(...results.map((r) => r.endUs));
    const dropped = results.filter((r) => r.meta!.seq % 7 === 3);
    expect(out.requests).toBeGreaterThan(50);
    expect(results).toHaveLength(out.requests + out.unanswered + out.refused);
    expect(new Set(results.map((r) => r.meta!.seq)).size).toBe(results.length);
    // every dropped request is unanswered, and (but for the last ones) reported when it was dropped
    expect(dropped.every((r) => r.status === 0 && r.error === 'no-response')).toBe(true);
    expect(dropped.filter((r) => r.endUs < runEndUs - 100_000).length).toBeGreaterThan(dropped.length / 2);
    for (const r of results.filter((r) => r.meta!.seq % 7 !== 3 && r.status > 0)) expect(JSON.parse(r.body).url).toBe(`/ok/${r.meta!.seq}`);
    expect(a.seen).toBeGreaterThanOrEqual(out.requests + dropped.length - 2);
  }, 10_000);

  it('reports a request autocannon timed out when it timed out', async () => {
    const a = await startServer('a', 1);
    const results: Seen[] = [];
    const out = await runSteadyLoad({
      targets: [{ instance: 0, url: a.url }],
      durationMs: 2500,
      connectionsPerTarget: 1,
      timeoutMs: 1000,
      nowUs,
      makeRequest: (seq) => ({ method: 'GET', path: seq === 5 ? `/hold/${seq}` : `/ok/${seq}`, meta: { seq, instance: 0 } }),
      onResult: collect(results),
    });
    expect(out.timeouts).toBe(1);
    const held = results.find((r) => r.meta!.seq === 5)!;
    expect(held).toMatchObject({ status: 0, error: 'no-response' });
    const heldMs = (held.endUs - held.startUs) / 1000;
    expect(heldMs).toBeGreaterThanOrEqual(900);
    expect(heldMs).toBeLessThan(2000); // reported at the timeout, not at the end of the run
    expect(results.filter((r) => r.meta!.seq > 5 && r.status === 200).length).toBeGreaterThan(10);
  }, 10_000);

  it('rejects with the error when makeRequest or onResult throws, and stops the load', async () => {
    const a = await startServer('a', 0);
    const started = performance.now();
    await expect(
      runSteadyLoad({
        targets: [{ instance: 0, url: a.url }],
        durationMs: 5000,
        connectionsPerTarget: 2,
        nowUs,
        makeRequest: (seq) => {
          if (seq === 20) throw new Error('bad workload');
          return { method: 'GET', path: `/${seq}` };
        },
      }),
    ).rejects.toThrow('bad workload');
    await expect(
      runSteadyLoad({
        targets: [{ instance: 0, url: a.url }],
        durationMs: 5000,
        connectionsPerTarget: 2,
        nowUs,
        makeRequest: (seq) => ({ method: 'GET', path: `/${seq}`, meta: seq }),
        onResult: (meta) => {
          if (meta === 10) throw new Error('bad recorder');
        },
      }),
    ).rejects.toThrow('bad recorder');
    expect(performance.now() - started).toBeLessThan(2000);
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

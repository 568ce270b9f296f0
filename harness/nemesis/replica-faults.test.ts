// Replica faults on a real primary + streaming standby, reached through a fault proxy as instances reach it: a
// delayed stream makes the standby lag by about the delay, a stalled one stops it until healed, and a stopped standby
// refuses connections through the proxy until healing has it streaming again. Each fault is one recorded window.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplicaPair, type ReplicaPair } from '../infra/replica-pair.ts';
import { withPg } from '../infra/pg-admin.ts';
import { sleep, withTimeout } from '../infra/process-util.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { createReplicaFaults, REPLICA_FAULT } from './replica-faults.ts';
import { FaultTimeline } from './timeline.ts';

const OPTS = { connectTimeoutMs: 2000, queryTimeoutMs: 4000 };
const count = (url: string): Promise<number> => withPg(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM t')).rows[0].n), OPTS);
const insert = (url: string): Promise<unknown> => withPg(url, (c) => c.query('INSERT INTO t DEFAULT VALUES'), OPTS);

/** Polls until `count(url)` reaches `n`; returns how long that took (ms), or -1 past `ms`. */
async function seen(url: string, n: number, ms: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if ((await count(url).catch(() => -1)) >= n) return performance.now() - t0;
    await sleep(20);
  }
  return -1;
}

describe('replica faults', () => {
  let pair: ReplicaPair;
  let proxy: FaultProxy;
  let viaProxy: string;

  beforeAll(async () => {
    pair = await withTimeout(startReplicaPair(), 25_000, 'the pair did not start');
    proxy = await startFaultProxy({ upstreamHost: pair.standby.host, upstreamPort: pair.standby.port });
    const u = new URL(pair.standby.url());
    u.port = String(proxy.port);
    viaProxy = u.toString();
    await withPg(pair.primary.url(), (c) => c.query('CREATE TABLE t (id serial PRIMARY KEY)'), OPTS);
    await pair.waitCaughtUp(10_000);
  }, 30_000);

  afterAll(async () => {
    await proxy?.close();
    await pair?.close();
  });

  it('lag delays what the standby sees by about the delay; healing ends the window', async () => {
    let now = 0;
    const timeline = new FaultTimeline(() => (now += 1000));
    const faults = createReplicaFaults({ target: { pair, proxy }, timeline, rng: { next: () => 0.5 } });
    const before = await count(viaProxy);
    const heal = faults.lag(600);
    await insert(pair.primary.url());
    const tookMs = await seen(viaProxy, before + 1, 5000);
    await heal();
    expect(tookMs).toBeGreaterThanOrEqual(400);
    expect(tookMs).toBeLessThan(4000);
    expect(timeline.windows.map((w) => [w.fault, w.detail])).toEqual([[REPLICA_FAULT.lag, { latencyMs: 600, jitterMs: 0 }]]);
  }, 20_000);

  it('stall stops replication until healed; the standby answers meanwhile, behind', async () => {
    const timeline = new FaultTimeline(() => 1);
    const faults = createReplicaFaults({ target: { pair, proxy }, timeline, rng: { next: () => 0 } });
    await pair.waitCaughtUp(5000);
    const before = await count(viaProxy);
    const heal = faults.stall();
    await insert(pair.primary.url());
    expect(await seen(viaProxy, before + 1, 800)).toBe(-1);
    expect(await pair.lagBytes()).toBeGreaterThan(0);
    await heal();
    expect(await seen(viaProxy, before + 1, 8000)).toBeGreaterThanOrEqual(0);
    expect(timeline.windows.map((w) => w.fault)).toEqual([REPLICA_FAULT.stall]);
  }, 20_000);

  it('down: connections through the proxy fail until healing has the standby streaming again', async () => {
    const timeline = new FaultTimeline(() => 1);
    const faults = createReplicaFaults({ target: { pair, proxy }, timeline, rng: { next: () => 0 } });
    const heal = await faults.down();
    await expect(count(viaProxy)).rejects.toThrow();
    await insert(pair.primary.url());
    await faults.healAll();
    await heal(); // idempotent
    await pair.waitCaughtUp(10_000);
    expect(await count(viaProxy)).toBe(await count(pair.primary.url()));
    expect(timeline.windows.map((w) => w.fault)).toEqual([REPLICA_FAULT.down]);
  }, 40_000);

  it('without a replica every fault throws and healAll does nothing', async () => {
    const faults = createReplicaFaults({ timeline: new FaultTimeline(() => 1), rng: { next: () => 0 } });
    expect(() => faults.lag(10)).toThrow(/no replica/);
    expect(() => faults.stall()).toThrow(/no replica/);
    await expect(faults.down()).rejects.toThrow(/no replica/);
    await faults.healAll();
  });
});

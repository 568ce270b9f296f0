// Tests of the composed nemesis over a real proxy and PostgreSQL: each fault records its window, heals work,
// nested and superseded faults behave, and healAll leaves nothing active or open.

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNemesis, FAULT, MIN_WINDOW_US, startFaultProxy, type FaultProxy } from './index.ts';
import { createRng } from '../seed.ts';

const ADMIN_URL = process.env.GAUNTLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROLE = `gauntlet_nem_${process.pid}`;
const admin = new URL(ADMIN_URL);

async function adminQuery(sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  c.on('error', () => {});
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end().catch(() => {});
  }
}

let proxy: FaultProxy;
const clients: pg.Client[] = [];
const t0 = process.hrtime.bigint();
const nowUs = () => Number((process.hrtime.bigint() - t0) / 1000n);

beforeAll(async () => {
  await adminQuery(`DROP ROLE IF EXISTS ${ROLE}`);
  await adminQuery(`CREATE ROLE ${ROLE} LOGIN`);
  proxy = await startFaultProxy({ upstreamHost: admin.hostname, upstreamPort: Number(admin.port || 5432) });
}, 30_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
});

afterAll(async () => {
  await proxy.close();
  await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [ROLE]);
  await adminQuery(`DROP ROLE IF EXISTS ${ROLE}`);
}, 30_000);

async function candidateClient(): Promise<pg.Client> {
  const c = new pg.Client({ host: proxy.host, port: proxy.port, user: ROLE, database: admin.pathname.slice(1) || 'postgres' });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}

/** Backends of earlier tests exit asynchronously after their sockets close: wait until the role has none. */
async function noBackendsLeft(): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  c.on('error', () => {});
  await c.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [ROLE]);
      if (rows[0].n === 0) return;
      await sleep(20);
    }
    throw new Error(`backends of ${ROLE} still open after 2 s`);
  } finally {
    await c.end().catch(() => {});
  }
}

const nemesisFor = () => createNemesis({ proxy, adminUrl: ADMIN_URL, role: ROLE, nowUs, rng: createRng(1) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('nemesis', () => {
  it('dbLatency opens a window that its heal closes, and slows queries only meanwhile', async () => {
    const nemesis = nemesisFor();
    const c = await candidateClient();
    const heal = nemesis.dbLatency(40, 0);
    expect(nemesis.windows).toHaveLength(1);
    expect(nemesis.windows[0]).toMatchObject({ fault: FAULT.dbLatency, endUs: Infinity, detail: { latencyMs: 40, jitterMs: 0 } });
    const start = performance.now();
    await c.query('SELECT 1');
    expect(performance.now() - start).toBeGreaterThanOrEqual(78);
    await heal();
    await heal(); // idempotent
    const w = nemesis.windows[0];
    expect(Number.isFinite(w.endUs)).toBe(true);
    expect(w.endUs - w.startUs).toBeGreaterThanOrEqual(78_000);
    const after = performance.now();
    await c.query('SELECT 1');
    expect(performance.now() - after).toBeLessThan(40);
  }, 15_000);

  it('a second dbLatency supersedes the first', async () => {
    const nemesis = nemesisFor();
    const healFirst = nemesis.dbLatency(10);
    const healSecond = nemesis.dbLatency(30, 5);
    expect(nemesis.windows[0].detail).toMatchObject({ superseded: true });
    expect(Number.isFinite(nemesis.windows[0].endUs)).toBe(true);
    expect(nemesis.windows[1].endUs).toBe(Infinity);
    await healFirst(); // no-op: the second one is still active
    expect(nemesis.windows[1].endUs).toBe(Infinity);
    await healSecond();
    expect(Number.isFinite(nemesis.windows[1].endUs)).toBe(true);
  });

  it('dbReset records a short window and breaks the transaction in flight', async () => {
    const nemesis = nemesisFor();
    const c = await candidateClient();
    await c.query('BEGIN');
    await c.query('SELECT txid_current()');
    // short: PostgreSQL only notices the vanished client when the sleep ends (its backend lingers until then)
    const inFlight = c.query('SELECT pg_sleep(0.5)');
    inFlight.catch(() => {});
    await sleep(50);
    await nemesis.dbReset();
    await expect(inFlight).rejects.toThrow();
    const [w] = nemesis.windows;
    expect(w.fault).toBe(FAULT.dbReset);
    expect(w.endUs - w.startUs).toBeGreaterThanOrEqual(MIN_WINDOW_US);
    expect(w.detail).toEqual({ connections: 1 });
  }, 15_000);

  it('dbBlackhole hangs calls until healed; the heal resets them and records how many', async () => {
    const nemesis = nemesisFor();
    const c = await candidateClient();
    const heal = nemesis.dbBlackhole();
    const hung = c.query('SELECT 1');
    hung.catch(() => {});
    const state = await Promise.race([hung.then(() => 'done', () => 'failed'), sleep(300).then(() => 'pending')]);
    expect(state).toBe('pending');
    await heal();
    await expect(hung).rejects.toThrow();
    expect(nemesis.windows[0]).toMatchObject({ fault: FAULT.dbBlackhole, detail: { connectionsReset: 1 } });
    expect(Number.isFinite(nemesis.windows[0].endUs)).toBe(true);
    const fresh = await candidateClient();
    expect((await fresh.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  }, 15_000);

  it('killBackends records a window with what it killed', async () => {
    await noBackendsLeft();
    const nemesis = nemesisFor();
    const c = await candidateClient();
    await c.query('BEGIN');
    await c.query('SELECT txid_current()');
    expect(await nemesis.killBackends()).toBe(1);
    await expect(c.query('SELECT 1')).rejects.toThrow();
    const [w] = nemesis.windows;
    expect(w).toMatchObject({ fault: FAULT.killBackends, detail: { role: ROLE, killed: 1, byState: { 'idle in transaction': 1 } } });
    expect(w.endUs - w.startUs).toBeGreaterThanOrEqual(MIN_WINDOW_US);
  }, 15_000);

  it('healAll heals everything still active and closes every window', async () => {
    const nemesis = nemesisFor();
    const c = await candidateClient();
    nemesis.dbLatency(20);
    nemesis.dbBlackhole();
    nemesis.dbBlackhole(); // nested
    const hung = c.query('SELECT 1');
    hung.catch(() => {});
    await sleep(100);
    await nemesis.healAll();
    await expect(hung).rejects.toThrow();
    expect(nemesis.windows).toHaveLength(3);
    for (const w of nemesis.windows) expect(Number.isFinite(w.endUs) && w.endUs > w.startUs).toBe(true);
    const resets = nemesis.windows.filter((w) => w.fault === FAULT.dbBlackhole).map((w) => w.detail?.connectionsReset);
    expect(resets.reduce((a, b) => Number(a) + Number(b), 0)).toBe(1);
    // traffic flows with no latency again
    const fresh = await candidateClient();
    const start = performance.now();
    await fresh.query('SELECT 1');
    expect(performance.now() - start).toBeLessThan(30);
    await nemesis.healAll(); // nothing left: a no-op
    expect(nemesis.windows).toHaveLength(3);
  }, 15_000);
});

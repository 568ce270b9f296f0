// Tests of connection-slot reservations on the real local PostgreSQL: scenarios of one process share a reservation,
// another process (here: a holder under another spelling of the same server's URL) waits for it, says who holds
// the slots, gets them as soon as they are released, and gives up after its bound; an unreachable server never
// throws; the session's locks go with it.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reserveConnectionSlots, SLOT_LOCK_CLASS, slotKeys, type SlotReservation } from './connection-slots.ts';
import { withPg } from './pg-admin.ts';
import { LOCAL_POSTGRES_URL } from './postgres-source.ts';
import { slotHog, type SlotHog } from './test-helpers.ts';

/** The same server under another URL: to this process, another process's reservations. */
const OTHER_URL = LOCAL_POSTGRES_URL.replace(/^postgres:/, 'postgresql:');
const held: SlotReservation[] = [];

async function lockCount(): Promise<number> {
  return withPg(LOCAL_POSTGRES_URL, async (c) => {
    const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`, [SLOT_LOCK_CLASS]);
    return Number(rows[0].n);
  });
}

async function reserve(url: string, connections: number, more: { maxWaitMs?: number; overlapWaitMs?: number; yieldAfterMs?: number; progress?: (m: string) => void } = {}): Promise<SlotReservation> {
  const r = await reserveConnectionSlots(url, { connections, ...more });
  held.push(r);
  return r;
}

let hog: SlotHog;

beforeAll(async () => {
  hog = await slotHog('slot_hog_unit_');
});
afterAll(() => hog.drop());

afterEach(async () => {
  await hog.release();
  for (const r of held.splice(0)) await r.release();
  expect(await lockCount()).toBe(0);
});

describe('connection slot reservations (local PostgreSQL)', () => {
  it('takes a pool of ten per key, and scenarios of one process share them', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 60);
    expect(a.unheld).toBeNull();
    expect(a.facts!.usable).toBe(a.facts!.maxConnections - a.facts!.reserved);
    const want = Math.min(6, slotKeys(a.facts!));
    expect(await lockCount()).toBe(want);
    const b = await reserve(LOCAL_POSTGRES_URL, 60, { maxWaitMs: 0 });
    expect(b.unheld).toBeNull();
    expect(b.waitedMs).toBeLessThan(500);
    expect(await lockCount()).toBe(want); // shared, not taken twice
    await a.release();
    expect(await lockCount()).toBe(want); // b still runs
    await b.release();
    expect(await lockCount()).toBe(0);
  });

  it('makes another grade wait, says who holds the slots, and lets it run once its bound is over', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 10_000); // every key
    const told: string[] = [];
    const b = await reserve(OTHER_URL, 10, { maxWaitMs: 1200, progress: (m) => told.push(m) });
    expect(b.waitedMs).toBeGreaterThanOrEqual(1200);
    expect(b.waitedMs).toBeLessThan(5000);
    expect(b.unheld).toMatch(/other gauntlet grades held this PostgreSQL's connection slots/);
    expect(told[0]).toMatch(new RegExp(`waiting for PostgreSQL connection slots \\(max_connections \\d+\\): gauntlet pid ${process.pid} holds them`));
    expect(a.unheld).toBeNull();
  });

  it('gives a waiting grade the slots as soon as they are released', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 10_000);
    setTimeout(() => void a.release(), 700);
    const b = await reserve(OTHER_URL, 60, { maxWaitMs: 20_000 });
    expect(b.unheld).toBeNull();
    expect(b.waitedMs).toBeGreaterThanOrEqual(600);
    expect(b.waitedMs).toBeLessThan(5000);
  });

  it('a process whose scenarios overlap lets a waiting grade take its turn before it starts another scenario', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 10_000); // a long run's scenario, holding every key
    let bAt = 0;
    let cAt = 0;
    const b = reserve(OTHER_URL, 10_000, { maxWaitMs: 20_000 }).then((r) => ((bAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 600)); // the other grade is waiting now
    const told: string[] = [];
    const c = reserve(LOCAL_POSTGRES_URL, 10_000, { maxWaitMs: 20_000, yieldAfterMs: 0, progress: (m) => told.push(m) }).then((r) => ((cAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 700));
    expect(cAt).toBe(0); // the next scenario of the long run does not join the running one
    await a.release();
    const rb = await b;
    expect(rb.unheld).toBeNull();
    await new Promise((r) => setTimeout(r, 500));
    expect(cAt).toBe(0); // the waiter holds them now
    await rb.release();
    const rc = await c;
    expect(rc.unheld).toBeNull();
    expect(bAt).toBeGreaterThan(0);
    expect(cAt).toBeGreaterThan(bAt);
    expect(told[0]).toMatch(/^gauntlet pid \d+ waits for PostgreSQL connection slots \(max_connections \d+\): this grade lets it take its turn once its running scenario ends$/);
  });

  it('a process that starts a scenario just as its last one released the keys lets a grade that has waited go first', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 10_000);
    let bAt = 0;
    let cAt = 0;
    const b = reserve(OTHER_URL, 10_000, { maxWaitMs: 20_000 }).then((r) => ((bAt = Date.now()), r));
    await new Promise((r) => setTimeout(r, 600)); // the other grade is waiting now
    // This process sees it waiting (its next scenario, prepared beside the running one, asks and still joins it)…
    const seen = await reserve(LOCAL_POSTGRES_URL, 10, { maxWaitMs: 0, yieldAfterMs: 60_000 });
    expect(seen.waitedMs).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 600));
    await seen.release();
    await a.release(); // …then its run goes on strictly one scenario after another: nothing of it holds the keys now
    const c = reserve(LOCAL_POSTGRES_URL, 10_000, { maxWaitMs: 20_000, yieldAfterMs: 500 }).then((r) => ((cAt = Date.now()), r));
    const rb = await b;
    expect(rb.unheld).toBeNull();
    await new Promise((r) => setTimeout(r, 400));
    expect(cAt).toBe(0);
    await rb.release();
    expect((await c).unheld).toBeNull();
    expect(cAt).toBeGreaterThan(bAt);
  });

  it('a grade that has waited less than YIELD_AFTER_MS does not stop the holder\'s next scenario from joining its running one', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 10_000);
    const b = reserve(OTHER_URL, 10_000, { maxWaitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 600));
    const c = await reserve(LOCAL_POSTGRES_URL, 10_000, { maxWaitMs: 20_000, yieldAfterMs: 60_000 });
    expect(c.unheld).toBeNull();
    expect(c.waitedMs).toBeLessThan(500);
    await a.release();
    await c.release();
    expect((await b).unheld).toBeNull();
  });

  it('a scenario prepared beside another of its process waits until the server has room for its setup', async () => {
    const a = await reserve(LOCAL_POSTGRES_URL, 60);
    await hog.fillLeaving(5); // the other scenario's submission filled the server
    setTimeout(() => void hog.release(), 800); // its teardown
    const b = await reserve(LOCAL_POSTGRES_URL, 60);
    expect(b.unheld).toBeNull();
    expect(b.waitedMs).toBeGreaterThanOrEqual(700);
    expect(b.waitedMs).toBeLessThan(5000);
    await hog.fillLeaving(5);
    const c = await reserve(LOCAL_POSTGRES_URL, 60, { overlapWaitMs: 600 });
    expect(c.unheld).toMatch(/fewer than 20 free connection slots after \d+ s/);
    expect(a.unheld).toBeNull();
  });

  it('never throws for a server it cannot reach: the scenario runs unreserved', async () => {
    const r = await reserve('postgres://postgres@127.0.0.1:1/postgres', 60);
    expect(r.facts).toBeNull();
    expect(r.unheld).toMatch(/could not hold a reservation/);
  });
});

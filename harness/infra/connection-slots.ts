// PostgreSQL's connection slots, shared by every program on one server. A scenario's instances each open up to
// ten connections (ctx.pg, or the submission's own pool); two grades side by side on a server with the default
// max_connections of 100 run out, and the candidate's code is then refused ("sorry, too many clients already",
// "remaining connection slots are reserved …") through no fault of its own. So:
// - gauntlet processes on one server take turns: a scenario reserves its share of the server's slots before its
//   database is created, as session advisory locks on one admin connection (a crashed process's locks go with its
//   session), waiting, with a message, while other gauntlet grades hold them; a scenario prepared beside another
//   of its own process shares the reservation but waits until the server has room for its setup (the other may
//   have filled it: a submission that never closes its connections). A process waiting for slots says so (a shared
//   advisory lock on WAITER_KEY); a process whose scenarios overlap one another (grades in a row), once another has
//   waited YIELD_AFTER_MS, lets its running scenario end and the waiter take its turn before it starts another, so
//   two long runs alternate instead of one holding the server until the other's wait runs out;
// - a refusal that still happens (another program filled the server) is recognised (`serverFull`) and judged by
//   scenario-steps (`refusalExcuse`): the machine's fault, so the scenario is `inconclusive`, never `failed`.

import type pg from 'pg';
import { connectPg, endPg } from './pg-admin.ts';
import { interrupted } from '../cleanup.ts';

/** The size of the context's pool (ctx.pg, instance-main.ts) and node-postgres's default: a unit of reservation. */
export const POOL_CONNECTIONS = 10;
/** The advisory-lock class of the reservation keys ("gaun" as a signed 32-bit integer). */
export const SLOT_LOCK_CLASS = 0x6761756e;
/** How long a scenario waits for another gauntlet grade's slots by default before it runs anyway. */
export const DEFAULT_SLOT_WAIT_MS = 10 * 60_000;
const POLL_MS = 250;
/** The advisory key (in SLOT_LOCK_CLASS) a waiting process holds in shared mode while it waits; never a slot key. */
export const WAITER_KEY = 0x7fffffff;
/** How long a process that let a waiter go first holds back while that waiter still waits (it may need more than was freed). */
const DEFER_MS = 5_000;
/**
 * How long a process whose scenarios overlap goes on after it first saw another waiting: a short grade beside another
 * ends first (keeping its overlap), a long run (a self-test, grades in a row) lets the other in scenario by scenario.
 */
export const YIELD_AFTER_MS = 30_000;
/**
 * What a scenario prepared beside another of its process (its setup, its instances' create) may open before its
 * workload, which waits for the other's teardown anyway: its setup's pool and a few connections more.
 */
export const PREPARE_CONNECTIONS = 2 * POOL_CONNECTIONS;
/** How long a scenario prepared beside another waits for the other to leave it that room. */
export const OVERLAP_WAIT_MS = 60_000;

/** The connections a scenario may open: one pool per instance, one for the setup process and one for the fresh final-read instance. */
export function scenarioConnections(instances: number): number {
  return (instances + 2) * POOL_CONNECTIONS;
}

/** A refusal of a new connection because the whole server is full (SQLSTATE 53300, not a role's or a database's own limit). */
export function serverFull(code: string | undefined, message: string | undefined): boolean {
  if (code !== undefined && code !== '53300') return false;
  return /too many clients already|remaining connection slots are reserved/i.test(message ?? '');
}

export interface SlotFacts {
  maxConnections: number;
  /** Slots only superusers (and, from PostgreSQL 16, pg_use_reserved_connections) may take. */
  reserved: number;
  /** What every other role may use: max_connections minus the reserved slots. */
  usable: number;
}

export async function slotFacts(client: pg.Client): Promise<SlotFacts> {
  const { rows } = await client.query<{ m: string; r: string; rr: string | null }>(
    `SELECT current_setting('max_connections') AS m, current_setting('superuser_reserved_connections') AS r,
            current_setting('reserved_connections', true) AS rr`,
  );
  const maxConnections = Number(rows[0].m);
  const reserved = Number(rows[0].r) + Number(rows[0].rr ?? 0);
  return { maxConnections, reserved, usable: Math.max(1, maxConnections - reserved) };
}

/** Reservation keys on a server: one per pool's worth of its usable slots (a few kept for admin connections). */
export function slotKeys(facts: SlotFacts): number {
  return Math.max(1, Math.floor((facts.usable - 5) / POOL_CONNECTIONS));
}

export interface SlotReservation {
  /** The server's facts (null when they could not be read: the server could not be reached or is full). */
  facts: SlotFacts | null;
  /** How long the scenario waited for other grades' slots, ms. */
  waitedMs: number;
  /** Why the reservation is not held (the server could not be reached, or the wait ran out); null when it is. */
  unheld: string | null;
  release(): Promise<void>;
}

interface Holder {
  url: string;
  client: pg.Client | null;
  facts: SlotFacts | null;
  keys: number[];
  /** Reservations of this process (held or queued): the session lives while there are any. */
  users: number;
  /** Reservations that hold the keys now: the keys are given back when the last of them is released. */
  active: number;
  /** Reservations of this process go one at a time. */
  queue: Promise<unknown>;
}

/** One holder per server URL in this process: scenarios of one process that overlap (a grade's next scenario prepared beside the last) share its keys. */
const holders = new Map<string, Holder>();
/** Per server URL: the other processes seen waiting for keys, by name, and since when (ms); kept across holders. */
const waitersSeen = new Map<string, Map<string, number>>();

export interface ReserveOptions {
  /** Connections the scenario may open (scenarioConnections). */
  connections: number;
  maxWaitMs?: number;
  /** How long a scenario that shares its process's reservation waits for PREPARE_CONNECTIONS free slots (OVERLAP_WAIT_MS). */
  overlapWaitMs?: number;
  /** Told once when the scenario has to wait, and every 10 s while it does. */
  progress?: (message: string) => void;
  /** How long another process may wait before this one stops overlapping its scenarios for it (YIELD_AFTER_MS). */
  yieldAfterMs?: number;
}

/**
 * Reserve a scenario's share of the server's connection slots among gauntlet processes. Never throws: a server
 * that cannot be reached, or a wait that runs out, leaves the scenario to run unreserved (`unheld` says why).
 */
export async function reserveConnectionSlots(adminUrl: string, o: ReserveOptions): Promise<SlotReservation> {
  let h = holders.get(adminUrl);
  if (!h) {
    h = { url: adminUrl, client: null, facts: null, keys: [], users: 0, active: 0, queue: Promise.resolve() };
    holders.set(adminUrl, h);
  }
  const holder = h;
  // Counted at once, so that a release meanwhile never closes the session a queued reservation is about to use.
  holder.users += 1;
  const turn = holder.queue.then(() => acquire(holder, o));
  holder.queue = turn.catch(() => undefined);
  const { holding, ...result } = await turn;
  let released = false;
  return {
    ...result,
    release: async () => {
      if (released) return;
      released = true;
      holder.users -= 1;
      if (holding) holder.active -= 1;
      if (holder.users > 0) {
        // The last holding reservation of this process, while another is still queued (it let a waiting process go
        // first): give the keys back now. Only a holding one: an unheld one's release must not take keys from under
        // an acquire that is taking them.
        if (holding && holder.active === 0 && holder.keys.length && holder.client) {
          holder.keys = [];
          await holder.client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
        }
        return;
      }
      const client = holder.client;
      holder.client = null;
      holder.keys = [];
      if (holders.get(adminUrl) === holder) holders.delete(adminUrl);
      // Ending the session releases its advisory locks.
      if (client) await endPg(client);
    },
  };
}

/** What acquire found; `holding`: the scenario counts among the holder's active reservations (release gives it back). */
type Acquired = Omit<SlotReservation, 'release'> & { holding: boolean };

async function acquire(h: Holder, o: ReserveOptions): Promise<Acquired> {
  const started = Date.now();
  const waitedMs = () => Date.now() - started;
  if (!h.client) {
    try {
      h.client = await connectPg(h.url, { connectTimeoutMs: 5000, queryTimeoutMs: 10_000 });
      await h.client.query(`SET application_name = 'gauntlet-slots pid ${process.pid}'`);
      h.facts = await slotFacts(h.client);
    } catch (err) {
      if (h.client) await endPg(h.client);
      h.client = null;
      return { facts: h.facts, waitedMs: waitedMs(), unheld: `could not hold a reservation: ${(err as Error).message}`, holding: false };
    }
  }
  const client = h.client;
  const facts = h.facts!;
  const total = slotKeys(facts);
  const want = Math.min(total, Math.max(1, Math.ceil(o.connections / POOL_CONNECTIONS)));
  const maxWaitMs = o.maxWaitMs ?? DEFAULT_SLOT_WAIT_MS;
  // Another gauntlet process has waited for slots a while (YIELD_AFTER_MS): no new scenario of this process joins its
  // running one; once that is released the keys go back, and the waiter takes them before this process asks again.
  const now = Date.now();
  const seen = await waiters(client).catch(() => [] as string[]);
  const since = waitersSeen.get(h.url) ?? waitersSeen.set(h.url, new Map()).get(h.url)!;
  for (const w of [...since.keys()]) if (!seen.includes(w)) since.delete(w);
  for (const w of seen) if (!since.has(w)) since.set(w, now);
  const waiting = seen.filter((w) => now - since.get(w)! >= (o.yieldAfterMs ?? YIELD_AFTER_MS));
  if (waiting.length) {
    if (h.keys.length) {
      o.progress?.(`${waiting.join(', ')} ${waiting.length > 1 ? 'wait' : 'waits'} for PostgreSQL connection slots (max_connections ${facts.maxConnections}): this grade lets it take its turn once its running scenario ends`);
      while (h.active > 0 && waitedMs() < maxWaitMs && !interrupted()) await new Promise((r) => setTimeout(r, POLL_MS));
    }
    // The keys are free (or were never this process's): the waiter takes them within one of its polls.
    if (h.active === 0) {
      const deferFrom = Date.now();
      while (Date.now() - deferFrom < DEFER_MS && !interrupted() && (await waiters(client).catch(() => [] as string[])).some((w) => waiting.includes(w))) {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }
  // Scenarios of this process that overlap share its keys; one that wants more tries for the rest without waiting
  // (waiting while holding could deadlock with another process doing the same).
  if (h.keys.length) {
    // Counted as holding at once: a release meanwhile must not give back the keys this scenario is about to use.
    h.active += 1;
    if (h.keys.length < want) await tryKeys(client, total, want, h.keys).catch(() => undefined);
    // The scenario overlapping it (still settling, reading, tearing down) may hold far more than it should: a
    // submission that never closes its connections fills the server, and this one's setup would be refused for it.
    // Its teardown frees them within seconds.
    const roomy = await waitForRoom(client, facts, PREPARE_CONNECTIONS, o.overlapWaitMs ?? OVERLAP_WAIT_MS).catch(() => true);
    return { facts, waitedMs: waitedMs(), unheld: roomy ? null : `this PostgreSQL still had fewer than ${PREPARE_CONNECTIONS} free connection slots after ${Math.round(waitedMs() / 1000)} s`, holding: true };
  }
  let lastTold = 0;
  let saidWaiting = false;
  /** Not waiting any more: the shared waiter lock goes (held only between polls). */
  const stopWaiting = async () => {
    if (saidWaiting) await client.query('SELECT pg_advisory_unlock_shared($1, $2)', [SLOT_LOCK_CLASS, WAITER_KEY]).catch(() => undefined);
    saidWaiting = false;
  };
  for (;;) {
    try {
      if (await tryKeys(client, total, want, h.keys)) {
        await stopWaiting();
        h.active += 1;
        return { facts, waitedMs: waitedMs(), unheld: null, holding: true };
      }
      // Not enough: give back what was taken (never hold some while waiting for more), then wait, saying so.
      await client.query('SELECT pg_advisory_unlock_all()');
      h.keys.length = 0;
      await client.query('SELECT pg_advisory_lock_shared($1, $2)', [SLOT_LOCK_CLASS, WAITER_KEY]);
      saidWaiting = true;
    } catch (err) {
      h.keys.length = 0;
      await stopWaiting();
      return { facts, waitedMs: waitedMs(), unheld: `could not hold a reservation: ${(err as Error).message}`, holding: false };
    }
    if (interrupted()) {
      await stopWaiting();
      return { facts, waitedMs: waitedMs(), unheld: `gauntlet was interrupted (${interrupted()})`, holding: false };
    }
    if (waitedMs() >= maxWaitMs) {
      await stopWaiting();
      return { facts, waitedMs: waitedMs(), unheld: `other gauntlet grades held this PostgreSQL's connection slots for ${Math.round(waitedMs() / 1000)} s; this scenario ran without waiting longer`, holding: false };
    }
    if (o.progress && Date.now() - lastTold >= 10_000) {
      lastTold = Date.now();
      const who = await holdersText(client).catch(() => 'other gauntlet grades');
      o.progress(`waiting for PostgreSQL connection slots (max_connections ${facts.maxConnections}): ${who} ${who.includes(",") ? "hold" : "holds"} them; grades on one server take turns (${Math.round(waitedMs() / 1000)} s so far)`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Wait until the server has `room` free slots that any role may use; false when it still has not after `maxWaitMs`. */
async function waitForRoom(client: pg.Client, facts: SlotFacts, room: number, maxWaitMs: number): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`);
    if (facts.usable - Number(rows[0].n) >= room) return true;
    if (Date.now() - started >= maxWaitMs || interrupted()) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Take free keys until `held` has `want` of them; true when it has. */
async function tryKeys(client: pg.Client, total: number, want: number, held: number[]): Promise<boolean> {
  for (let key = 0; key < total && held.length < want; key++) {
    if (held.includes(key)) continue;
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [SLOT_LOCK_CLASS, key]);
    if (rows[0].ok) held.push(key);
  }
  return held.length >= want;
}

/** Other sessions holding reservation keys (`waiter`: the waiter key instead), by name: "gauntlet pid 123". */
async function sessionsWith(client: pg.Client, waiter: boolean): Promise<string[]> {
  const { rows } = await client.query<{ who: string }>(
    `SELECT DISTINCT coalesce(nullif(a.application_name, ''), 'pid ' || l.pid) AS who
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.granted AND l.pid <> pg_backend_pid()
        AND (l.objid = $2) = $3`,
    [SLOT_LOCK_CLASS, WAITER_KEY, waiter],
  );
  return rows.map((r) => r.who.replace('gauntlet-slots ', 'gauntlet '));
}

/** "gauntlet pid 123, gauntlet pid 456": who holds the keys now. */
async function holdersText(client: pg.Client): Promise<string> {
  const names = await sessionsWith(client, false);
  return names.length ? names.join(', ') : 'other gauntlet grades';
}

/** Other gauntlet processes waiting for keys now. */
function waiters(client: pg.Client): Promise<string[]> {
  return sessionsWith(client, true);
}

/** A connection the server refused before it was ready, and how many of the scenario's own were open then (fault-proxy.ts). */
export interface Refusal {
  code?: string;
  message?: string;
  open: number;
}

/**
 * Why refused connections are the machine's fault, or null: the server refused some of the scenario's connections
 * for want of free slots, each time while the scenario itself held no more than its due — under half of the slots
 * every role may use, or under what its pools may hold (`allowance`, scenarioConnections) when that is more — so
 * other programs held the rest. A scenario refused while holding more filled the server itself (a connection per
 * call, never released): that stays its own failure.
 */
export function refusalExcuse(refusals: Refusal[], facts: SlotFacts | null, allowance = 0): string | null {
  const full = refusals.filter((r) => serverFull(r.code, r.message));
  if (!full.length) return null;
  const usable = facts?.usable;
  if (usable !== undefined && full.some((r) => r.open >= Math.max(usable / 2, allowance))) return null;
  const most = Math.max(...full.map((r) => r.open));
  const held = usable !== undefined ? `while the scenario held at most ${most} of its ${usable} usable connections` : `while the scenario held at most ${most} connections`;
  return `PostgreSQL refused ${full.length === 1 ? "a connection" : `${full.length >= 1000 ? "at least 1000" : full.length} connections`} of this scenario for want of free slots ("${full[0].message ?? full[0].code}") ${held}: other programs or grades held the rest. This is the machine's, not the submission's: grade again when the server is quieter (gauntlet grades on one server take turns; other programs do not), or raise its max_connections.`;
}

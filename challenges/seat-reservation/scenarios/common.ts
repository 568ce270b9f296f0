// Helpers the seat scenarios share: seeded round-robin instance choice, user names, and the final reads
// (every seat from every instance, then from one instance started fresh).

import type { ScenarioContext } from '../../../harness/scenario.ts';
import type { Rng } from '../../../harness/seed.ts';
import { read } from '../operations.ts';
import { runLimited } from '../../../harness/generator/run-limited.ts';

export interface SeatFinal {
  seats: string[];
  freshInstance: number | null;
}

/** Round-robin over the instances from a seeded starting point: each instance gets its share of every burst. */
export function roundRobin(rng: Rng, size: number): () => number {
  let next = rng.int(0, Math.max(0, size - 1));
  return () => {
    const i = next;
    next = (next + 1) % size;
    return i;
  };
}

export const userName = (i: number) => `user-${String(i).padStart(4, '0')}`;

/**
 * Hostile user ids (quotes, comment markers) the contract allows — a userId is any string. Bound as a parameter
 * or escaped as a literal they are harmless; pasted into SQL text they are found on the wire (injection probes).
 */
export const SEAT_INJECTION_PROBES = [`o'brien"; --`, `'); DELETE FROM seats; --`];

/** Like userName, but every 7th user carries one of the injection probes (still unique, still readable). */
export const hostileUserName = (i: number) => (i % 7 === 3 ? `${userName(i)} ${SEAT_INJECTION_PROBES[Math.floor(i / 7) % SEAT_INJECTION_PROBES.length]}` : userName(i));

/**
 * Open every instance's database pool before a burst, as production traffic would have: `perInstance` concurrent
 * reads of `seat` on each instance (phase `warmup`; no checker judges them). A burst then starts every pooled
 * transaction at once, so a strategy that needs retries (SERIALIZABLE, optimistic versions) meets its conflicts on
 * every seed instead of only when connection set-up happened to overlap.
 */
export async function warmPools(ctx: ScenarioContext, seat: string, perInstance = 16): Promise<void> {
  const specs = [];
  for (let i = 0; i < ctx.cluster.size; i++) for (let k = 0; k < perInstance; k++) specs.push(read(`warmup-${i}-${k}`, i, seat, 'warmup'));
  await ctx.client.burst(specs);
}

/**
 * Read every given seat from every instance, and from a freshly started instance (its start overlaps the other
 * reads: the workload is over, so what it reads is still only what the database kept).
 */
export async function readAllSeats(ctx: ScenarioContext, seats: string[]): Promise<SeatFinal> {
  const starting = ctx.cluster.startFresh().then(
    (i) => i,
    (err: Error) => {
      ctx.progress(`could not start a fresh instance for final reads: ${err.message}`);
      return null;
    },
  );
  const calls = [];
  for (let i = 0; i < ctx.cluster.size; i++) for (const seat of seats) calls.push(read('final-read', i, seat, 'final'));
  await runLimited(calls.map((c) => () => ctx.client.call(c)), 32);
  const freshInstance = await starting;
  if (freshInstance !== null) await runLimited(seats.map((seat) => () => ctx.client.call(read('final-read', freshInstance, seat, 'final'))), 32);
  return { seats, freshInstance };
}

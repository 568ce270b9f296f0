// last-seat: one seat, every caller released at the same instant across all instances, with a few ms of
// database latency to widen the race window. Exactly one may win; everyone else must be told SEAT_TAKEN.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { reserve } from '../operations.ts';
import { definiteRejections } from '../checkers/definite-rejections.ts';
import { noLostSeats } from '../checkers/no-lost-seats.ts';
import { singleWinner } from '../checkers/single-winner.ts';
import { winnerDurable } from '../checkers/winner-durable.ts';
import { readAllSeats, roundRobin, userName, warmPools, type SeatFinal } from './common.ts';

const SEAT = 'last-seat';
const UNKNOWN_SEAT = 'no-such-seat';

export const lastSeat: ScenarioDef<SeatFinal> = {
  id: 'last-seat',
  description: 'one seat, 1000 users released together across all instances, with added database latency',
  params: {
    quick: { callers: 500, dbLatencyMs: 2, dbJitterMs: 2 },
    standard: { callers: 1000, dbLatencyMs: 3, dbJitterMs: 2 },
    thorough: { callers: 2000, dbLatencyMs: 5, dbJitterMs: 3 },
  },
  data: () => ({ seats: [SEAT] }),
  async run(ctx) {
    const pick = roundRobin(ctx.rng.fork('instances'), ctx.cluster.size);
    const users = ctx.rng.fork('users').shuffle(Array.from({ length: ctx.params.callers }, (_, i) => userName(i + 1)));
    const specs = users.map((u) => reserve(u, pick(), SEAT, u, 'burst'));
    // A few calls for a seat that does not exist: they must get SEAT_NOT_FOUND, not a reservation.
    for (let i = 0; i < 3; i++) specs.push(reserve(`probe-${i}`, pick(), UNKNOWN_SEAT, `probe-${i}`, 'burst'));
    const heal = ctx.nemesis.dbLatency(ctx.params.dbLatencyMs, ctx.params.dbJitterMs);
    ctx.progress('warming every instance\'s connection pool');
    await warmPools(ctx, SEAT);
    await ctx.cluster.resetStats();
    ctx.progress(`${specs.length} callers released together`);
    const burst = await ctx.client.burst(specs);
    await heal();
    const stats = await ctx.cluster.stats();
    // Peak in progress as the instances' adapters counted it (HTTP-mode servers cannot say: the history's peak is used).
    const peak = stats.reduce((s, x) => s + x.maxInFlight, 0);
    if (peak > 0) ctx.metric('maxInFlight', peak);
    ctx.metric('releaseSkewMs', Math.round(burst.releaseSkewMs * 100) / 100);
    ctx.metric('connectMs', Math.round(burst.connectMs));
    if (burst.releasePriority) ctx.metric('releasePriority', burst.releasePriority);
    ctx.metric('callers', specs.length);
  },
  finalReads: (ctx) => readAllSeats(ctx, [SEAT]),
  checkers: [singleWinner, winnerDurable, definiteRejections, noLostSeats],
};

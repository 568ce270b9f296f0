// holds: temporary holds with TTLs. Some are confirmed in time, some abandoned (after expiry a crowd races for
// the seat, and the late holder's confirm must fail), some released because "payment failed" (a crowd races
// for the seat well before its TTL). Interlopers try every held seat while the hold is live.

import type { CallSpec, ScenarioDef } from '../../../harness/scenario.ts';
import { confirm, hold, release, reserve } from '../operations.ts';
import { definiteRejections } from '../checkers/definite-rejections.ts';
import { holdExpires, releaseFreesSeat } from '../checkers/hold-release.ts';
import { noLostSeats } from '../checkers/no-lost-seats.ts';
import { singleWinner } from '../checkers/single-winner.ts';
import { winnerDurable } from '../checkers/winner-durable.ts';
import { readAllSeats, roundRobin, type SeatFinal } from './common.ts';

const GROUPS = ['confirm', 'abandon', 'release', 'late'] as const;

export const holds: ScenarioDef<SeatFinal> = {
  id: 'holds',
  description: 'short holds: confirmed, abandoned (they must expire), released (the seat must be free again)',
  requires: ['holdSeat', 'confirmHold', 'releaseSeat'],
  params: {
    quick: { seatsPerGroup: 3, crowd: 20, shortTtlMs: 400, longTtlMs: 30000 },
    standard: { seatsPerGroup: 5, crowd: 40, shortTtlMs: 500, longTtlMs: 30000 },
    thorough: { seatsPerGroup: 10, crowd: 80, shortTtlMs: 600, longTtlMs: 30000 },
  },
  data: (_rng, p) => ({ seats: GROUPS.flatMap((g) => Array.from({ length: p.seatsPerGroup }, (_, i) => `${g}-${i + 1}`)) }),
  async run(ctx) {
    const p = ctx.params;
    const pick = roundRobin(ctx.rng.fork('instances'), ctx.cluster.size);
    const seats = (g: string) => Array.from({ length: p.seatsPerGroup }, (_, i) => `${g}-${i + 1}`);
    const holder = (seat: string) => `holder-${seat}`;
    const call = (spec: CallSpec) => ctx.client.call(spec);

    // 1. Every seat is held; confirm and release seats with a long TTL so only their own action can free them.
    const ttlOf = (g: string) => (g === 'abandon' || g === 'late' ? p.shortTtlMs : p.longTtlMs);
    const heldAt = ctx.nowUs();
    await Promise.all(GROUPS.flatMap((g) => seats(g).map((s) => call(hold(holder(s), pick(), s, holder(s), ttlOf(g), 'hold')))));
    // 2. Interlopers while every hold is live: each must be told SEAT_TAKEN.
    await ctx.client.burst(GROUPS.flatMap((g) => seats(g).map((s) => reserve(`interloper-${s}`, pick(), s, `interloper-${s}`, 'interlopers'))));
    // 3. Confirm in time; release the others ("payment failed") and let a crowd race for them at once.
    await Promise.all(seats('confirm').map((s) => call(confirm(holder(s), pick(), s, holder(s), 'confirm'))));
    await Promise.all(seats('release').map((s) => call(release(holder(s), pick(), s, holder(s), 'release'))));
    const crowd = (s: string, phase: string) => Array.from({ length: p.crowd }, (_, i) => reserve(`crowd-${s}-${i + 1}`, pick(), s, `crowd-${s}-${i + 1}`, phase));
    ctx.progress('crowds race for released seats');
    await ctx.client.burst(ctx.rng.shuffle(seats('release').flatMap((s) => crowd(s, 'race-released'))));
    // 4. Wait until the short holds surely expired, then race for the abandoned seats; late holders try to confirm.
    const waitMs = p.shortTtlMs + 300 - (ctx.nowUs() - heldAt) / 1000;
    if (waitMs > 0) await ctx.sleep(waitMs);
    ctx.progress('crowds race for expired holds');
    await ctx.client.burst(ctx.rng.shuffle(seats('abandon').flatMap((s) => crowd(s, 'race-expired'))));
    await Promise.all([...seats('abandon'), ...seats('late')].map((s) => call(confirm(holder(s), pick(), s, holder(s), 'late-confirm'))));
  },
  finalReads: (ctx) => readAllSeats(ctx, ctx.data.seats as string[]),
  checkers: [singleWinner, holdExpires, releaseFreesSeat, definiteRejections, winnerDurable, noLostSeats],
};

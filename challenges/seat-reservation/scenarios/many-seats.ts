// many-seats: many users, several bursts of attempts on random seats; winners of earlier rounds sometimes
// reserve their own seat again (a retry after a timeout must be safe). One winner per seat, no lost seats.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { CallSpec } from '../../../harness/scenario.ts';
import { reserve } from '../operations.ts';
import { definiteRejections } from '../checkers/definite-rejections.ts';
import { idempotentRereserve } from '../checkers/idempotent-rereserve.ts';
import { noLostSeats } from '../checkers/no-lost-seats.ts';
import { singleWinner } from '../checkers/single-winner.ts';
import { winnerDurable } from '../checkers/winner-durable.ts';
import { grantedUser } from '../checkers/model.ts';
import { hostileUserName, readAllSeats, roundRobin, type SeatFinal } from './common.ts';

export const manySeats: ScenarioDef<SeatFinal> = {
  id: 'many-seats',
  description: 'bursts of users on random seats, with winners re-reserving their own seat',
  params: {
    quick: { seats: 30, users: 300, rounds: 3, repeatShare: 0.3, dbLatencyMs: 1 },
    standard: { seats: 50, users: 500, rounds: 3, repeatShare: 0.3, dbLatencyMs: 2 },
    thorough: { seats: 100, users: 1000, rounds: 5, repeatShare: 0.3, dbLatencyMs: 2 },
  },
  data: (_rng, p) => ({ seats: Array.from({ length: p.seats }, (_, i) => `seat-${String(i + 1).padStart(3, '0')}`) }),
  async run(ctx) {
    const seats = ctx.data.seats as string[];
    const rng = ctx.rng.fork('workload');
    const pick = roundRobin(ctx.rng.fork('instances'), ctx.cluster.size);
    const users = Array.from({ length: ctx.params.users }, (_, i) => hostileUserName(i + 1));
    const won = new Map<string, string>(); // user → seat they were told they hold
    const heal = ctx.nemesis.dbLatency(ctx.params.dbLatencyMs, 1);
    for (let round = 1; round <= ctx.params.rounds; round++) {
      const specs: CallSpec[] = [];
      for (const u of users) {
        const own = won.get(u);
        // Winners repeat their own seat (idempotency); everyone else tries a random seat.
        const seat = own && rng.chance(ctx.params.repeatShare) ? own : rng.pick(seats);
        if (own && seat !== own) continue; // a winner does not grab a second seat
        specs.push(reserve(u, pick(), seat, u, `round-${round}`));
      }
      ctx.progress(`round ${round}/${ctx.params.rounds}: ${specs.length} callers`);
      const { ops } = await ctx.client.burst(rng.shuffle(specs));
      for (const op of ops) if (op.type === 'ok' && grantedUser(op) === op.args.userId) won.set(String(op.args.userId), String(op.args.seatId));
    }
    await heal();
  },
  finalReads: (ctx) => readAllSeats(ctx, ctx.data.seats as string[]),
  checkers: [singleWinner, idempotentRereserve, winnerDurable, definiteRejections, noLostSeats],
};

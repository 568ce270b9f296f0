// db-faults: bursts of reservations while the database misbehaves mid-transaction: connections reset, backends
// terminated, latency spikes and a short blackhole — and, for a submission that uses Redis, its Redis too (the
// same reset, latency spike and blackhole at the same moments). Indeterminate answers are allowed while a fault
// is active, but never two holders, and a caller told SEAT_TAKEN never holds the seat.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { reserve } from '../operations.ts';
import { definiteRejections } from '../checkers/definite-rejections.ts';
import { noLostSeats } from '../checkers/no-lost-seats.ts';
import { singleWinner } from '../checkers/single-winner.ts';
import { winnerDurable } from '../checkers/winner-durable.ts';
import { readAllSeats, roundRobin, userName, type SeatFinal } from './common.ts';

const FAULTS = ['reset', 'kill-backends', 'latency-spike', 'blackhole'] as const;

export const dbFaults: ScenarioDef<SeatFinal> = {
  id: 'db-faults',
  description: 'bursts while database (and Redis, when used) connections are reset, backends killed, latency spikes and a blackhole',
  params: {
    quick: { seats: 10, rounds: 4, callersPerRound: 80, blackholeMs: 300, baseLatencyMs: 2 },
    standard: { seats: 20, rounds: 8, callersPerRound: 120, blackholeMs: 400, baseLatencyMs: 2 },
    thorough: { seats: 40, rounds: 16, callersPerRound: 200, blackholeMs: 500, baseLatencyMs: 3 },
  },
  data: (_rng, p) => ({ seats: Array.from({ length: p.seats }, (_, i) => `seat-${String(i + 1).padStart(3, '0')}`) }),
  async run(ctx) {
    const seats = ctx.data.seats as string[];
    const rng = ctx.rng.fork('workload');
    const faultRng = ctx.rng.fork('faults');
    const pick = roundRobin(ctx.rng.fork('instances'), ctx.cluster.size);
    let user = 0;
    for (let round = 0; round < ctx.params.rounds; round++) {
      // Every fault kind appears; the order and the moment inside the burst are seeded.
      const fault = round < FAULTS.length ? FAULTS[round] : faultRng.pick(FAULTS);
      const specs = Array.from({ length: ctx.params.callersPerRound }, () => {
        const u = userName(++user);
        return reserve(u, pick(), rng.pick(seats), u, `round-${round + 1}`);
      });
      ctx.progress(`round ${round + 1}/${ctx.params.rounds}: ${fault} during ${specs.length} calls`);
      // Latency keeps transactions open long enough for the fault to land inside them.
      const healLatency = ctx.nemesis.dbLatency(ctx.params.baseLatencyMs, 2);
      const burst = ctx.client.burst(specs);
      await ctx.sleep(faultRng.int(5, 30));
      // Decided per round: a submission's first use of Redis may come with the first burst (allow it 100 ms).
      for (let waited = 0; !ctx.nemesis.redisInUse() && round === 0 && waited < 100; waited += 10) await ctx.sleep(10);
      const redis = ctx.nemesis.redisInUse();
      if (fault === 'reset') {
        await ctx.nemesis.dbReset();
        if (redis) await ctx.nemesis.redisReset();
      } else if (fault === 'kill-backends') await ctx.nemesis.killBackends();
      else if (fault === 'latency-spike') {
        const spike = faultRng.int(50, 150);
        const heals = [ctx.nemesis.dbLatency(spike, 20), ...(redis ? [ctx.nemesis.redisLatency(spike, 20)] : [])];
        await ctx.sleep(300);
        await Promise.all(heals.map((h) => h()));
      } else {
        const heals = [ctx.nemesis.dbBlackhole(), ...(redis ? [ctx.nemesis.redisBlackhole()] : [])];
        await ctx.sleep(ctx.params.blackholeMs);
        await Promise.all(heals.map((h) => h()));
      }
      await burst;
      await healLatency();
      await ctx.sleep(100);
    }
  },
  finalReads: (ctx) => readAllSeats(ctx, ctx.data.seats as string[]),
  checkers: [singleWinner, winnerDurable, definiteRejections, noLostSeats],
};

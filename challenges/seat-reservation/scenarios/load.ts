// load: steady load over many seats for a few seconds (autocannon, latency in µs). Measures throughput,
// p50/p99 and error rate; safety still holds under load (one winner per seat, no crash).

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { reserve } from '../operations.ts';
import { singleWinner } from '../checkers/single-winner.ts';
import { readAllSeats, userName, type SeatFinal } from './common.ts';

export const load: ScenarioDef<SeatFinal> = {
  id: 'load',
  description: 'steady load over many seats: throughput and latency, with safety still checked',
  params: {
    quick: { seats: 500, users: 2000, durationMs: 1500, connectionsPerInstance: 8, finalSample: 40, compareReference: 0 },
    standard: { seats: 2000, users: 10000, durationMs: 3000, connectionsPerInstance: 8, finalSample: 80, compareReference: 1 },
    thorough: { seats: 5000, users: 50000, durationMs: 10000, connectionsPerInstance: 12, finalSample: 150, compareReference: 1 },
  },
  data: (_rng, p) => ({ seats: Array.from({ length: p.seats }, (_, i) => `seat-${String(i + 1).padStart(5, '0')}`) }),
  async run(ctx) {
    const seats = ctx.data.seats as string[];
    const rng = ctx.rng.fork('workload');
    ctx.progress(`steady load for ${ctx.params.durationMs} ms`);
    const result = await ctx.client.steady({
      durationMs: ctx.params.durationMs,
      connectionsPerInstance: ctx.params.connectionsPerInstance,
      make: (_seq, instance) => {
        const u = userName(rng.int(1, ctx.params.users));
        return reserve(u, instance, rng.pick(seats), u, 'load');
      },
    });
    ctx.metric('loadRequests', result.requests);
    ctx.metric('loadThroughputPerS', Math.round(result.throughputPerS));
    ctx.metric('loadP50Ms', result.latency.p50Ms);
    ctx.metric('loadP99Ms', result.latency.p99Ms);
    ctx.metric('errorRate', result.requests ? Math.round(((result.errors + result.timeouts) / result.requests) * 10000) / 10000 : 0);
  },
  async finalReads(ctx) {
    // Read back a seeded sample of the seats that someone won, not all of them.
    const rng = ctx.rng.fork('final');
    const won = [...new Set(ctx.history().filter((o) => o.type === 'ok').map((o) => String(o.args.seatId)))];
    const seats = rng.shuffle(won.length ? won : [...(ctx.data.seats as string[])]).slice(0, ctx.params.finalSample);
    return readAllSeats(ctx, seats);
  },
  checkers: [singleWinner],
};

// 3. Overhead of gauntlet's steady-load driver: the same instance of the conditional-update reference driven in
// turn by the grading client (runSteadyLoad + history), by bare runSteadyLoad, and by plain autocannon.

import fs from 'node:fs';
import path from 'node:path';
import { findChallenge } from '../../../challenges/index.ts';
import { reserve } from '../../../challenges/seat-reservation/operations.ts';
import { createClient } from '../../generator/client.ts';
import { runPlainAutocannon, runSteadyLoad } from '../../generator/steady-load.ts';
import { History } from '../../history/history.ts';
import { createRedisNamespace, createScenarioDatabase } from '../../infra/index.ts';
import { withPg } from '../../infra/pg-admin.ts';
import { bundleInstance } from '../../instances/bundle.ts';
import { Cluster } from '../../instances/cluster.ts';
import { serviceEnv } from '../../services/types.ts';
import { createRng } from '../../seed.ts';
import { atLeast, failedLine, line, type BenchLine, type BenchSection } from './report.ts';
import { bounded, median, referenceFile, round, SEAT, type BenchContext } from './support.ts';

const RATIO_TARGET = atLeast(0.8, '');
const SEATS = 4000;
const USERS = 20_000;
const CONNECTIONS = 8; // the load scenario's connections per instance
const seatName = (i: number) => `seat-${String(i).padStart(5, '0')}`;

type Driver = 'client' | 'bare' | 'plain';
interface Run {
  driver: Driver;
  throughputPerS: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Harness-process CPU time (user + system) per answered request, µs. */
  cpuUsPerReq?: number;
}

/**
 * Every seat is claimed beforehand, so every request takes the same server path (SEAT_TAKEN: an UPDATE that
 * matches nothing, then an existence check) whether its seat and user vary (the drivers) or not (autocannon,
 * which repeats one request): the throughput ratio then measures the driver, not different server work.
 * The database is reached directly, without the fault proxy a scenario puts in front of it.
 */
export async function measureDriverThroughput(ctx: BenchContext): Promise<BenchSection> {
  const rounds = ctx.quick ? 1 : 3;
  const durationMs = ctx.quick ? 2000 : 5000;
  const lines: BenchLine[] = [];
  const section = (notes: string[] = []): BenchSection => ({
    id: 'driver-throughput',
    title: `steady-load driver vs plain autocannon (1 instance, ${CONNECTIONS} connections, ${durationMs / 1000} s × ${rounds} round(s) each)`,
    lines,
    notes: [
      'client = the grading client (runSteadyLoad with µs latencies, every request decoded and recorded in the history, as the load scenario runs it); bare = runSteadyLoad alone; plain = autocannon repeating one request.',
      `Every one of the ${SEATS} seats is claimed first, so each request (random seat, random user for the drivers) is a SEAT_TAKEN answer: the same server work for all three. The database is reached directly, without the scenario's fault proxy.`,
      ...notes,
    ],
  });
  let runs: Run[];
  try {
    runs = await bounded(drive(ctx, rounds, durationMs), 60_000 + rounds * 3 * (durationMs + 5000), 'the driver comparison');
  } catch (err) {
    lines.push(failedLine('driver-ratio', 'ratio client driver / plain autocannon', err, RATIO_TARGET));
    return section();
  }
  const of = (d: Driver) => runs.filter((r) => r.driver === d);
  const med = (d: Driver) => median(of(d).map((r) => r.throughputPerS));
  const perRound = (d: Driver) => of(d).map((r) => Math.round(r.throughputPerS)).join(', ');
  const oddAnswers = (d: Driver) => of(d).reduce((s, r) => s + r.errors + (r.requests - r.non2xx), 0); // every answer should be a 409
  const cpu = (d: Driver) => median(of(d).map((r) => r.cpuUsPerReq ?? 0)).toFixed(0);
  const note = (d: Driver) => `runs ${perRound(d)}; harness CPU ${cpu(d)} µs/request${oddAnswers(d) ? `; ${oddAnswers(d)} errors or non-409 answers` : ''}`;
  const client = of('client');
  lines.push(line('client-rps', 'client driver (runSteadyLoad + history)', Math.round(med('client')), 'req/s', 0, undefined, `${note('client')}; p50 ${median(client.map((r) => r.p50Ms ?? 0)).toFixed(2)} ms, p99 ${median(client.map((r) => r.p99Ms ?? 0)).toFixed(2)} ms`));
  lines.push(line('bare-rps', 'bare runSteadyLoad', Math.round(med('bare')), 'req/s', 0, undefined, note('bare')));
  lines.push(line('plain-rps', 'plain autocannon', Math.round(med('plain')), 'req/s', 0, undefined, note('plain')));
  const ratio = (d: Driver) => (med('plain') > 0 ? round(med(d) / med('plain'), 2) : null);
  lines.push(line('driver-ratio', 'ratio client driver / plain autocannon', ratio('client'), '', 2, RATIO_TARGET, 'ratio of the medians'));
  lines.push(line('bare-ratio', 'ratio bare runSteadyLoad / plain autocannon', ratio('bare'), '', 2));
  return section();
}

async function drive(ctx: BenchContext, rounds: number, durationMs: number): Promise<Run[]> {
  const challenge = findChallenge(SEAT);
  if (!challenge) throw new Error(`the ${SEAT} challenge is not registered`);
  const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'driver-'));
  const bundle = path.join(dir, 'instance.bundle.mjs');
  const built = await bundleInstance(referenceFile('conditional-update'), challenge.routesModule, bundle, undefined, undefined, [challenge.contract]);
  if (!built.ok) throw new Error(`the reference does not bundle: ${built.error}`);
  const seats = Array.from({ length: SEATS }, (_, i) => seatName(i + 1));
  const scenarioFile = path.join(dir, 'scenario.json');
  fs.writeFileSync(scenarioFile, JSON.stringify({ seats }));

  const teardown: (() => Promise<unknown>)[] = [];
  try {
    ctx.log('bench: driver comparison: database, one instance, setup');
    const db = await createScenarioDatabase(ctx.infra, 'bench-driver');
    teardown.unshift(() => db.drop());
    const ns = await createRedisNamespace(ctx.infra);
    if (ns) teardown.unshift(() => ns.release());
    const history = new History();
    const cluster = new Cluster({
      launch: { kind: 'module', bundle, sandbox: true, maxHeapMb: 512 },
      size: 1,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: ns?.url ?? '',
        REPLICA_URL: '',
        GAUNTLET_REDIS_PROBLEM: ctx.infra.redisProblem ?? '',
        ...serviceEnv(),
        WEBHOOK_SECRET: '',
        GAUNTLET_SCENARIO: scenarioFile,
      },
      runDir: dir,
      startTimeoutMs: 15_000,
      nowUs: () => history.nowUs(),
    });
    teardown.unshift(() => cluster.stopAll());
    const setup = await cluster.runSetup();
    if (!setup.ok) throw new Error(`setup failed: ${setup.message}`);
    const start = await cluster.start();
    if (!start.ok) throw new Error(`the instance did not start: ${start.message}`);
    // Claim every seat (the reference's own table), so every request below is answered SEAT_TAKEN.
    await withPg(db.adminUrl, (c) => c.query(`UPDATE seats SET user_id = 'bench-owner', status = 'reserved', claimed_at = now(), expires_at = NULL`));

    const url = cluster.baseUrl(0);
    const rng = createRng(1);
    const pickSeat = () => seats[rng.int(0, seats.length - 1)];
    const pickUser = () => `user-${String(rng.int(1, USERS)).padStart(5, '0')}`;
    // Harness CPU per answered request: on a machine with few cores the driver's CPU is taken from the server.
    const run = async (driver: Driver, ms: number): Promise<Run> => {
      const cpu = process.cpuUsage();
      const r = await runOnce(driver, ms);
      const used = process.cpuUsage(cpu);
      return { ...r, cpuUsPerReq: r.requests ? (used.user + used.system) / r.requests : undefined };
    };
    const runOnce = async (driver: Driver, ms: number): Promise<Run> => {
      if (driver === 'plain') {
        const r = await runPlainAutocannon({ url, durationMs: ms, connections: CONNECTIONS, method: 'POST', path: `/seats/${seats[0]}/reservations`, body: { userId: 'bench-plain' } });
        return { driver, throughputPerS: r.throughputPerS, requests: r.requests, non2xx: r.non2xx, errors: r.errors };
      }
      if (driver === 'bare') {
        const r = await runSteadyLoad({
          targets: [{ instance: 0, url }],
          durationMs: ms,
          connectionsPerTarget: CONNECTIONS,
          nowUs: () => history.nowUs(),
          makeRequest: () => ({ method: 'POST', path: `/seats/${pickSeat()}/reservations`, body: { userId: pickUser() } }),
        });
        return { driver, throughputPerS: r.throughputPerS, requests: r.requests, non2xx: r.non2xx, errors: r.errors + r.timeouts, p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms };
      }
      // A fresh history per run (written to disk like a scenario's), so memory does not grow across runs.
      const recorded = new History(path.join(dir, `history-${Date.now()}.jsonl`));
      try {
        const r = await createClient(recorded, cluster).steady({
          durationMs: ms,
          connectionsPerInstance: CONNECTIONS,
          make: (_seq, instance) => {
            const user = pickUser();
            return reserve(user, instance, pickSeat(), user, 'bench');
          },
        });
        return { driver, throughputPerS: r.throughputPerS, requests: r.requests, non2xx: r.non2xx, errors: r.errors + r.timeouts, p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms };
      } finally {
        await recorded.close();
      }
    };

    ctx.log('bench: driver comparison: warm-up');
    await run('plain', 1000);
    await run('client', 1000);
    const runs: Run[] = [];
    const orders: Driver[][] = [['client', 'bare', 'plain'], ['plain', 'client', 'bare'], ['bare', 'plain', 'client']];
    for (let r = 0; r < rounds; r++) {
      for (const driver of orders[r % orders.length]) {
        const result = await run(driver, durationMs);
        runs.push(result);
        ctx.log(`bench:   round ${r + 1}/${rounds} ${driver.padEnd(6)} ${Math.round(result.throughputPerS)} req/s`);
      }
    }
    return runs;
  } finally {
    for (const step of teardown) await step().catch((err) => ctx.log(`bench: cleanup: ${(err as Error).message}`));
  }
}

// steady-reads: twenty reads for every write, a few hot users, the replica healthy but a little behind (its
// replication stream delayed ~150 ms, as on a busy network); then a read-only phase in which the primary should
// hardly be asked anything (primary-offload, counted on the wire).

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { cacheInvalidated } from '../checkers/cache-invalidated.ts';
import { monotonicReads } from '../checkers/monotonic-reads.ts';
import { primaryOffload } from '../checkers/primary-offload.ts';
import { readYourWrites } from '../checkers/read-your-writes.ts';
import { compareMetrics, dataSelects, makeData, measure, readEverything, Traffic, TRAFFIC } from './common.ts';
import { loadSqlParser } from '../../../harness/wire/sql-parser.ts';

export const steadyReads: ScenarioDef = {
  id: 'steady-reads',
  description: 'twenty reads per write on hot users, the replica ~150 ms behind; then a read-only phase that should spare the primary',
  params: {
    quick: { users: 24, hot: 3, mixedMs: 3000, readOnlyMs: 2500, lagMs: 150 },
    standard: { users: 40, hot: 4, mixedMs: 5000, readOnlyMs: 3000, lagMs: 150 },
    thorough: { users: 80, hot: 6, mixedMs: 10000, readOnlyMs: 4000, lagMs: 150 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    ctx.nemesis.replicaLag(ctx.params.lagMs, ctx.params.lagMs / 3);
    ctx.progress(`reads and writes for ${ctx.params.mixedMs} ms, the replica ~${ctx.params.lagMs} ms behind`);
    await t.run({ phase: 'mixed', durationMs: ctx.params.mixedMs, ...TRAFFIC });
    // Read-only: the replica catches up within its lag; measured from 300 ms in, so tokens of the last writes are replayed.
    ctx.progress(`read-only for ${ctx.params.readOnlyMs} ms`);
    const fromUs = ctx.nowUs() + 300_000;
    await t.run({ phase: 'read-only', durationMs: ctx.params.readOnlyMs, ...TRAFFIC, writeShare: 0, adminEveryMs: 0 });
    const toUs = ctx.nowUs();
    const reads = ctx.history().filter((o) => o.f === 'read' && o.phase === 'read-only' && o.type === 'ok' && o.startUs >= fromUs && o.endUs <= toUs).length;
    // SELECTs that read the service's data: a lag or health check (SELECT pg_current_wal_lsn(), SELECT 1) is not a read.
    await loadSqlParser();
    const selects = (server: 'primary' | 'replica') => dataSelects(ctx.wire!.completions({ server, fromUs, toUs }), ctx.wire!.statements({ server, fromUs, toUs }), () => true).selects;
    measure(ctx, { offload: { fromUs, toUs, reads, primarySelects: selects('primary'), replicaSelects: selects('replica') } });
    await compareMetrics(ctx);
  },
  finalReads: readEverything,
  checkers: [readYourWrites, monotonicReads, boundedStaleness, cacheInvalidated, primaryOffload],
};

// `gauntlet doctor`: which PostgreSQL and Redis a grade would use, their versions, and for each missing piece
// what to do. Read-only: creates nothing, and starts embedded PostgreSQL only when asked to (then stops it).

import type { DoctorItem, DoctorReport } from './types.ts';
import { embeddedRunAs, findEmbeddedBinaries, startEmbeddedPostgres } from './embedded-postgres.ts';
import { probePostgres } from './pg-admin.ts';
import { LOCAL_POSTGRES_URL, POSTGRES_FIXES, adminProblem, useEnvPostgres } from './postgres-source.ts';
import { errorText } from './process-util.ts';
import { probeRedis } from './redis-client.ts';
import { findRedisServer } from './redis-server.ts';
import { INSTALL_REDIS_FIX, LOCAL_REDIS_URL } from './redis-source.ts';
import { redactUrl } from './url-util.ts';
import { containment } from '../instances/netns.ts';
import { instanceUser } from '../instances/instance-process.ts';
import { prioritySettled, raiseForRelease } from '../generator/release-priority.ts';

export interface DiagnoseOptions {
  /** Really start (and stop) embedded PostgreSQL to prove it works; default: only check its binaries run. */
  tryEmbedded?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function diagnose(opts: DiagnoseOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const [pg, redis, network, burst] = await Promise.all([diagnosePostgres(env, opts.tryEmbedded ?? false), diagnoseRedis(env), diagnoseNetwork(), diagnoseBurstPriority()]);
  return {
    ok: pg.postgres.source !== null,
    ...pg,
    ...redis,
    network: network.network,
    burstPriority: burst.priority,
    items: [...pg.items, ...redis.items, ...network.items, ...burst.items],
  };
}

/** How a burst's release loop will run here (generator/release-priority.ts): raised once and put back, as a burst does. */
async function diagnoseBurstPriority(): Promise<{ priority: DoctorReport['burstPriority']; items: DoctorItem[] }> {
  const raised = await raiseForRelease();
  raised.restore();
  await prioritySettled();
  const label = 'burst release';
  if (raised.priority === 'realtime') return { priority: raised.priority, items: [{ status: 'ok', label, detail: 'real-time priority (chrt): a 1000-caller release takes a few ms' }] };
  const how = raised.priority === 'high' ? 'the highest nice allowed, not real-time' : 'normal priority';
  return {
    priority: raised.priority,
    items: [{ status: 'info', label, detail: `${how}: on a busy machine a 1000-caller release may spread over tens of ms (grade as root, or give chrt CAP_SYS_NICE, for real-time)` }],
  };
}

/** Network containment: whether instances will run in namespaces of their own here (probed as a grade would). */
async function diagnoseNetwork(): Promise<{ network: DoctorReport['network']; items: DoctorItem[] }> {
  const c = containment(await instanceUser());
  if (c.network === 'contained') {
    const how = c.strategy === 'netns' ? 'a network namespace per instance (unshare --net, as root)' : 'a user + network namespace per instance (unshare --user --net)';
    return { network: { contained: true, how }, items: [{ status: 'ok', label: 'network containment', detail: `${how}: instances reach only their scenario's database, Redis and mock services` }] };
  }
  return {
    network: { contained: false, reason: c.reason },
    items: [{ status: 'missing', label: 'network containment', detail: `open: ${c.reason}. Submissions can reach any port of this machine`, fix: 'grade on Linux with util-linux (unshare) and iproute2 (ip), as root or with unprivileged user namespaces enabled; or grade untrusted code in a container without network (docs/security.md)' }],
  };
}

async function diagnosePostgres(env: NodeJS.ProcessEnv, tryEmbedded: boolean): Promise<Pick<DoctorReport, 'postgres' | 'embedded' | 'items'>> {
  const items: DoctorItem[] = [];
  let postgres: DoctorReport['postgres'] = { source: null };
  const envUrl = env.DATABASE_URL?.trim();
  let envFailed = false;
  if (envUrl) {
    try {
      const source = await useEnvPostgres(envUrl);
      postgres = { source: 'env', url: redactUrl(envUrl), version: source.version };
      items.push({ status: 'ok', label: 'DATABASE_URL', detail: `${redactUrl(envUrl)} (PostgreSQL ${source.version}, may create roles and databases)` });
    } catch (err) {
      envFailed = true;
      const detail = errorText(err).split('. Fix: ')[0];
      items.push({ status: 'missing', label: 'DATABASE_URL', detail, fix: (err as { hint?: string }).hint ?? 'fix or unset DATABASE_URL' });
    }
  } else {
    items.push({ status: 'info', label: 'DATABASE_URL', detail: 'not set (optional)' });
  }

  const local = await probePostgres(LOCAL_POSTGRES_URL, 1500);
  const localProblem = local.ok ? adminProblem(local.info) : local.reason;
  if (local.ok && !localProblem) {
    if (!postgres.source && !envFailed) postgres = { source: 'local', url: LOCAL_POSTGRES_URL, version: local.info.version };
    items.push({ status: 'ok', label: 'local PostgreSQL', detail: `${LOCAL_POSTGRES_URL} (PostgreSQL ${local.info.version})` });
  } else {
    items.push({ status: 'info', label: 'local PostgreSQL', detail: `${LOCAL_POSTGRES_URL}: ${localProblem}` });
  }

  const embedded: DoctorReport['embedded'] = { present: false };
  const found = await findEmbeddedBinaries();
  if (found.ok) {
    Object.assign(embedded, { present: true, version: found.binaries.version, binDir: found.binaries.binDir });
    try {
      embedded.runAs = (await embeddedRunAs())?.name;
    } catch (err) {
      embedded.present = false;
      embedded.problem = errorText(err);
    }
  } else {
    embedded.problem = found.problem;
  }
  if (embedded.present && tryEmbedded) {
    try {
      const server = await startEmbeddedPostgres();
      await server.stop();
      embedded.started = true;
    } catch (err) {
      embedded.started = false;
      embedded.problem = errorText(err);
    }
  }
  const embeddedUsable = embedded.present && embedded.started !== false;
  if (!postgres.source && !envFailed && embeddedUsable) postgres = { source: 'embedded', version: embedded.version };
  const runAsText = embedded.runAs ? `, runs as OS user ${embedded.runAs}` : '';
  const startedText = embedded.started ? ', started and stopped a test cluster' : '';
  items.push(
    embeddedUsable
      ? { status: 'ok', label: 'embedded PostgreSQL', detail: `PostgreSQL ${embedded.version} binaries in ${embedded.binDir}${runAsText}${startedText}` }
      : { status: postgres.source ? 'info' : 'missing', label: 'embedded PostgreSQL', detail: embedded.problem ?? 'unavailable', fix: POSTGRES_FIXES[2] },
  );

  const verdict: DoctorItem = postgres.source
    ? { status: 'ok', label: 'PostgreSQL', detail: `grading will use ${describePg(postgres)}` }
    : {
        status: 'missing',
        label: 'PostgreSQL',
        detail: envFailed ? 'DATABASE_URL is set but cannot be used (gauntlet does not fall back when it is set)' : 'none usable: grading stops with exit code 3',
        fix: envFailed ? 'fix or unset DATABASE_URL (see above)' : POSTGRES_FIXES.join('; '),
      };
  return { postgres, embedded, items: [verdict, ...items] };
}

function describePg(p: DoctorReport['postgres']): string {
  if (p.source === 'env') return `DATABASE_URL ${p.url} (PostgreSQL ${p.version})`;
  if (p.source === 'local') return `the local server ${p.url} (PostgreSQL ${p.version})`;
  return `embedded PostgreSQL ${p.version}, started in a temp folder for each run`;
}

async function diagnoseRedis(env: NodeJS.ProcessEnv): Promise<Pick<DoctorReport, 'redis' | 'redisServerBinary' | 'items'>> {
  const items: DoctorItem[] = [];
  let redis: DoctorReport['redis'] = { source: null };
  const envUrl = env.REDIS_URL?.trim();
  let envFailed = false;
  if (envUrl) {
    const probe = await probeRedis(envUrl, 2000);
    if (probe.ok) {
      redis = { source: 'env', url: redactUrl(envUrl), version: probe.version };
      items.push({ status: 'ok', label: 'REDIS_URL', detail: `${redactUrl(envUrl)} (Redis ${probe.version})` });
    } else {
      envFailed = true;
      items.push({ status: 'missing', label: 'REDIS_URL', detail: `${redactUrl(envUrl)} did not answer PING: ${probe.reason}`, fix: 'fix or unset REDIS_URL' });
    }
  } else {
    items.push({ status: 'info', label: 'REDIS_URL', detail: 'not set (optional)' });
  }
  const local = await probeRedis(LOCAL_REDIS_URL, 1000);
  if (local.ok && !redis.source && !envFailed) redis = { source: 'local', url: LOCAL_REDIS_URL, version: local.version };
  items.push(
    local.ok
      ? { status: 'ok', label: 'local Redis', detail: `${LOCAL_REDIS_URL} (Redis ${local.version})` }
      : { status: 'info', label: 'local Redis', detail: `${LOCAL_REDIS_URL}: ${local.reason}` },
  );
  const binary = await findRedisServer(env);
  const redisServerBinary = { path: binary?.path ?? null, version: binary?.version };
  if (binary && !redis.source && !envFailed) redis = { source: 'spawned', version: binary.version };
  items.push(
    binary
      ? { status: 'ok', label: 'redis-server on PATH', detail: `${binary.path}${binary.version ? ` (${binary.version})` : ''}` }
      : { status: redis.source ? 'info' : 'missing', label: 'redis-server on PATH', detail: 'not found', fix: INSTALL_REDIS_FIX },
  );
  const verdict: DoctorItem = redis.source
    ? { status: 'ok', label: 'Redis', detail: `grading will use ${describeRedis(redis)}` }
    : {
        status: 'missing',
        label: 'Redis',
        detail: 'none: grading runs without Redis (candidates get no redisUrl)',
        fix: envFailed ? 'fix or unset REDIS_URL (see above)' : INSTALL_REDIS_FIX,
      };
  return { redis, redisServerBinary, items: [verdict, ...items] };
}

function describeRedis(r: DoctorReport['redis']): string {
  if (r.source === 'env') return `REDIS_URL ${r.url} (Redis ${r.version})`;
  if (r.source === 'local') return `the local server ${r.url} (Redis ${r.version})`;
  return `a private redis-server ${r.version ?? ''} started for each run`.replace('  ', ' ');
}

const MARKS = { ok: '✓', missing: '✗', info: '·' } as const;

/** Readable lines: a ✓/✗ verdict per service, the details under it, a fix under each ✗, and a summary. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = [];
  for (const item of r.items) {
    const isVerdict = item.label === 'PostgreSQL' || item.label === 'Redis';
    lines.push(`${isVerdict ? '' : '  '}${MARKS[item.status]} ${item.label}: ${item.detail}`);
    if (item.status === 'missing' && item.fix) lines.push(`${isVerdict ? '    ' : '      '}fix: ${item.fix}`);
  }
  lines.push(
    r.ok
      ? `ready: grading can run${r.redis.source ? '' : ' (without Redis)'}`
      : 'not ready: no usable PostgreSQL (gauntlet grade would exit with code 3)',
  );
  return lines.join('\n');
}

// The programmatic API: grade(options) → GradeResult, the `--json` document of CONTRACT §7. Options in, a
// serialisable result out; the run folder keeps the config, every scenario's history and the result, so a
// run can be inspected and its checkers re-run offline.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { challenges as registry, contractFiles } from '../../challenges/index.ts';
import type { ChallengeDef, ScenarioDef } from '../scenario.ts';
import type { ChallengeResult, ProfileName, ScenarioResult } from '../types.ts';
import type { GradeResult } from '../../rubric/result.ts';
import { acquireInfra, type Infra } from '../infra/index.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { DependencyStage } from '../instances/dependencies.ts';
import { assertSubmissionDir, findModule, readSubmissionConfig } from '../submission.ts';
import { scoreChallenges, verdictOf } from '../../rubric/score.ts';
import { gatherEvidenceInBackground } from '../../rubric/evidence/background.ts';
import { gatherEvidence } from '../../rubric/evidence/index.ts';
import { rubricObservers } from '../../rubric/evidence/observers.ts';
import type { SubmissionEvidence } from '../../rubric/evidence/types.ts';
import type { ManualScoring } from '../../rubric/manual.ts';
import { writeReports, type FileReport } from './reporters/index.ts';
import { isStoreUrl, openStore, type RunStore } from './store/index.ts';
import { machineId } from './machine-id.ts';
import { Teardowns, type ScenarioRunOptions } from '../scenario-runner.ts';
import { runPlan, type PlanItem } from './scenario-pipeline.ts';
import { compareWithReference, mayRunReference } from './reference-throughput.ts';
import { applyConvoyYardstick, wantsYardstick, type RanScenario } from './convoy-yardstick.ts';
import { machineBusy, type FigureMemory, type ReferenceFigures } from './reference-figures.ts';
import { instanceUser, type LaunchSpec } from '../instances/instance-process.ts';
import { containment as probeContainment, type Containment } from '../instances/netns.ts';
import { bubblewrap } from '../instances/bwrap.ts';
import { trustsLocalConnections } from '../infra/pg-admin.ts';
import { UsageError } from '../errors.ts';
import { interrupted, markRunInterrupted } from '../cleanup.ts';
import { fail } from '../checkers/verdict.ts';
import { DEFAULTS, LIMITS, PROFILES } from './defaults.ts';

export interface GradeOptions {
  submission: string;
  /** Challenge ids to grade; all by default. */
  challenges?: string[];
  /** Scenario ids to run (within the chosen challenges); all by default. */
  scenarios?: string[];
  instances?: number;
  seed?: number;
  profile?: ProfileName;
  /** Where run folders go; DEFAULTS.outDir (`.gauntlet/runs`) by default. */
  outDir?: string;
  /** Keep each scenario's database after the run (for inspection). */
  keep?: boolean;
  minScore?: number;
  /** Reuse an already acquired infrastructure (tests, self-test); otherwise acquired and released here. */
  infra?: Infra;
  /** Answer deadline per call, ms (default DEFAULTS.callTimeoutMs): slower answers are measured as slow, not failed. */
  callTimeoutMs?: number;
  /** Hard limit per call, ms (default DEFAULTS.callHardLimitMs): only a call unanswered this long, or hung, counts as unanswered. */
  callHardLimitMs?: number;
  /** Run module instances under Node's permission model (default true). */
  sandbox?: boolean;
  /**
   * Keep every instance in a network namespace of its own that reaches only its scenario's endpoints (default
   * true; Linux). `false` leaves the network open, as on a machine where namespaces cannot be had.
   */
  contain?: boolean;
  /**
   * Grade with an open network even against a PostgreSQL that trusts local connections (otherwise an open grade
   * uses the embedded server, with password authentication, instead).
   */
  allowOpenNetwork?: boolean;
  /** Record every statement and Redis command per scenario (sql.jsonl, redis.jsonl); default true. Off only to measure what it costs. */
  capture?: boolean;
  /** V8 heap limit per module instance, MiB (default DEFAULTS.maxHeapMb). */
  maxHeapMb?: number;
  /** How long an instance may take to become ready (setup, create), ms (default DEFAULTS.startTimeoutMs). */
  startTimeoutMs?: number;
  /** Cap on each instance's captured stdout+stderr, bytes (default DEFAULTS.maxLogBytes; the rest is dropped, marked). */
  maxLogBytes?: number;
  /** Use a private embedded PostgreSQL even if DATABASE_URL is set or a local server runs (docs/security.md). */
  embeddedPostgres?: boolean;
  /** Start a private redis-server even if REDIS_URL is set or a local Redis runs (docs/security.md). */
  privateRedis?: boolean;
  onProgress?(event: ProgressEvent): void;
  /**
   * Record the run in this run store: a SQLite file (the CLI passes `.gauntlet/gauntlet.db`) or a PostgreSQL URL
   * (`postgres://…`, a store shared by a fleet); not stored when unset.
   */
  store?: string;
  /** Record the run under this batch tag (RecordExtras.batch; `gauntlet history --batch` lists a batch). */
  batch?: string;
  /** Report files to write into the run folder. */
  reports?: FileReport[];
  /** Manual scores to apply at once (usually given later with `gauntlet score`). */
  manual?: ManualScoring;
  /**
   * Read the source for rubric evidence (type check, static reading; default true). `'without-types'` reads it
   * without the type check (self-test: its references are held to zero concerns, and the type check costs CPU
   * the scenarios share); false skips it.
   */
  sourceEvidence?: boolean | 'without-types';
  /**
   * Grades one after another, overlapped like the scenarios of one grade (GradeChain, grade-chain.ts): this grade's
   * first workload waits for `after` (the previous grade, wholly over: its checks, teardown and scoring) and
   * `onWorkloadsOver` says when this grade's last workload is over and healed, so the next grade can prepare beside
   * its settle, final reads, checks and teardown.
   */
  after?: Promise<unknown>;
  onWorkloadsOver?(): void;
}

export type ProgressEvent =
  | { kind: 'infra'; message: string; /** Printed even with --quiet (the sandbox is weaker than by default). */ warning?: boolean }
  | { kind: 'scenario-start'; challenge: string; scenario: string; index: number; total: number }
  | { kind: 'scenario-progress'; challenge: string; scenario: string; message: string; notice?: boolean }
  | { kind: 'scenario-end'; challenge: string; scenario: string; result: ScenarioResult };

// Defaults and limits live in harness/defaults.ts (the CLI's help and parsing read the same values).
export { DEFAULTS, LIMITS, PROFILES } from './defaults.ts';

export function validateOptions(o: GradeOptions): Required<Pick<GradeOptions, 'instances' | 'seed' | 'profile'>> & { challenges: ChallengeDef[] } {
  const profile = o.profile ?? DEFAULTS.profile;
  if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile "${profile}"`, `use one of: ${PROFILES.join(', ')}`);
  const instances = o.instances ?? DEFAULTS.instances;
  if (!inRange(instances, LIMITS.instances)) throw new UsageError(`--instances must be a whole number from ${LIMITS.instances.min} to ${LIMITS.instances.max}, got ${instances}`);
  const seed = o.seed ?? crypto.randomInt(DEFAULTS.randomSeed.min, DEFAULTS.randomSeed.max);
  if (!inRange(seed, LIMITS.seed)) throw new UsageError(`--seed must be a whole number from ${LIMITS.seed.min} to ${LIMITS.seed.max}, got ${seed}`);
  const ids = o.challenges ?? registry.map((c) => c.id);
  const chosen = ids.map((id) => {
    const c = registry.find((x) => x.id === id);
    if (!c) throw new UsageError(`unknown challenge "${id}"`, `known challenges: ${registry.map((x) => x.id).join(', ')}`);
    return c;
  });
  if (o.scenarios) {
    const known = chosen.flatMap((c) => c.scenarios.map((s) => s.id));
    const bad = o.scenarios.filter((s) => !known.includes(s));
    if (bad.length) throw new UsageError(`unknown scenario ${bad.join(', ')}`, `scenarios of the chosen challenges: ${known.join(', ')}`);
  }
  // A scenario filter narrows the challenges too: a challenge none of whose scenarios runs is not graded at all
  // (rather than reported as passed with nothing run).
  const graded = o.scenarios ? chosen.filter((c) => c.scenarios.some((s) => o.scenarios!.includes(s.id))) : chosen;
  if (o.minScore !== undefined && !(o.minScore >= LIMITS.minScore.min && o.minScore <= LIMITS.minScore.max)) throw new UsageError(`--min-score must be from ${LIMITS.minScore.min} to ${LIMITS.minScore.max}, got ${o.minScore}`);
  return { instances, seed, profile, challenges: graded };
}

const inRange = (n: number, r: { min: number; max: number }): boolean => Number.isInteger(n) && n >= r.min && n <= r.max;

export async function grade(o: GradeOptions): Promise<GradeResult> {
  const started = Date.now();
  const machine = machineId();
  // Other work on the machine as the grade begins: a remembered reference figure is taken only when it matches.
  const figureMemory: FigureMemory | undefined = o.store && wantsReferenceRun(o) ? { figures: figuresIn(o.store), busy: await machineBusy() } : undefined;
  const opts = validateOptions(o);
  const submission = assertSubmissionDir(o.submission, registry.map((c) => `${c.file}.ts`));
  const config = readSubmissionConfig(submission);
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${opts.seed}-${crypto.randomBytes(3).toString('hex')}`;
  const runDir = path.resolve(o.outDir ?? DEFAULTS.outDir, runId);
  fs.mkdirSync(runDir, { recursive: true });
  const progress = o.onProgress ?? (() => {});
  const modules = opts.challenges.map((c) => ({ challenge: c, file: findModule(submission, c, config) }));
  // Rubric evidence: the source is read in a child at the lowest CPU priority while the scenarios run.
  const evidencePending: Promise<SubmissionEvidence> =
    o.sourceEvidence === false
      ? Promise.resolve({ static: null, staticError: 'not read (self-test grades checks only)' } as SubmissionEvidence)
      : o.sourceEvidence === 'without-types'
        ? gatherEvidence(submission, modules.flatMap((m) => (m.file ? [m.file] : [])), { types: false })
        : gatherEvidenceInBackground(submission, modules.flatMap((m) => (m.file ? [m.file] : [])));
  fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ submission, ...opts, challenges: opts.challenges.map((c) => c.id), scenarios: o.scenarios, startedAt: new Date(started).toISOString() }, null, 2));

  // Ctrl-C / SIGTERM: once everything is cleaned up, the run folder says the run was interrupted and what had finished.
  // Only a hook: the signal handling itself is the CLI's (or the host program's), never grade()'s (harness/cleanup.ts).
  const completed: { challenge: string; scenario: string; status: string }[] = [];
  const unmarkInterrupted = markRunInterrupted(runDir, () => completed);

  const ownInfra = !o.infra && modules.some((m) => m.file);
  const containment: Containment = o.contain === false ? { network: 'open', reason: 'turned off (--no-contain)' } : probeContainment(o.sandbox === false ? null : await instanceUser());
  if (containment.network === 'open' && modules.some((m) => m.file)) progress({ kind: 'infra', warning: true, message: `network: open — ${containment.reason}; the submission can reach any port of this machine (docs/security.md)` });
  let infra = o.infra ?? (ownInfra ? await acquireInfra({ log: (message) => progress({ kind: 'infra', message }), preferEmbedded: o.embeddedPostgres, preferSpawnedRedis: o.privateRedis }) : null);
  // Open network + a PostgreSQL that lets anyone on this machine in: the submission could log in as a superuser.
  if (ownInfra && infra && containment.network === 'open' && !o.allowOpenNetwork && infra.postgres.source !== 'embedded' && (await trustsLocalConnections(infra.postgres.adminUrl))) {
    progress({ kind: 'infra', warning: true, message: `the ${infra.postgres.source} PostgreSQL at ${infra.postgres.host}:${infra.postgres.port} trusts local connections and the network is open: using the embedded PostgreSQL (password authentication) instead; --allow-open-network uses it anyway` });
    await infra.close();
    infra = await acquireInfra({ log: (message) => progress({ kind: 'infra', message }), preferEmbedded: true, preferSpawnedRedis: o.privateRedis });
  }
  const sandbox: GradeResult['sandbox'] = {
    network: containment.network,
    ...(containment.network === 'contained' ? { how: containment.strategy === 'netns' ? 'network namespace (unshare --net)' : 'user + network namespace (unshare --user --net)' } : { reason: containment.reason }),
    filesystem: config.mode === 'http' ? (containment.network === 'contained' && !('problem' in bubblewrap()) ? 'read-only (bubblewrap)' : 'open') : o.sandbox === false ? 'open' : 'permission model',
  };
  const results: ChallengeResult[] = [];
  // The submission's own node_modules, staged once for the whole grade when a bundle uses them.
  const dependencies = new DependencyStage(submission);
  // Each scenario's teardown overlaps the next one's start (scenario-runner.ts); all are over before the grade ends.
  const teardowns = new Teardowns();
  // The grade before this one (when chained) is over before this grade's first workload, as a teardown would be.
  if (o.after) teardowns.add(o.after.then(() => undefined));
  try {
    const plan = modules.flatMap((m) => (m.file ? m.challenge.scenarios.filter((s) => !o.scenarios || o.scenarios.includes(s.id)).map((s) => ({ m, s })) : []));
    const moduleLaunch = (bundle: string, readable: string[] = [], manifest?: string): LaunchSpec => ({ kind: 'module', bundle, sandbox: o.sandbox ?? true, maxHeapMb: o.maxHeapMb ?? DEFAULTS.maxHeapMb, maxLogBytes: o.maxLogBytes, readable, manifest });
    const scenarioOptions = (challenge: ChallengeDef, s: ScenarioDef, launch: LaunchSpec, scenarioProgress: (message: string) => void, onHealed?: () => void): ScenarioRunOptions => ({
      infra: infra!,
      challenge,
      scenario: s,
      launch,
      containment,
      capture: o.capture,
      observers: rubricObservers,
      runDir,
      seed: opts.seed,
      profile: opts.profile,
      instances: opts.instances,
      keep: !!o.keep,
      callTimeoutMs: o.callTimeoutMs ?? DEFAULTS.callTimeoutMs,
      callHardLimitMs: o.callHardLimitMs ?? DEFAULTS.callHardLimitMs,
      startTimeoutMs: o.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      settleMs: DEFAULTS.settleMs,
      // Far above any scenario's designed length: slow answers are waited for (up to the hard limit each).
      scenarioTimeoutMs: DEFAULTS.scenarioTimeoutMs,
      progress: scenarioProgress,
      teardowns,
      ...(onHealed ? { onHealed } : {}),
    });
    const fileOf = new Map(modules.map((m) => [m.challenge, m.file]));
    // One bundle per challenge, made when its first scenario is staged (possibly while the previous challenge's last
    // scenario settles). Each in a folder of its own: a sandboxed instance may read its bundle's folder and nothing
    // else of the run (not the histories, ledgers or logs of other scenarios).
    const launches = new Map<ChallengeDef, Promise<{ bundled: { ok: true } | { ok: false; error?: string }; launch: LaunchSpec }>>();
    const launchFor = (challenge: ChallengeDef) => {
      let l = launches.get(challenge);
      if (!l) {
        l = (async () => {
          const file = fileOf.get(challenge)!;
          const bundleFile = path.join(runDir, challenge.id, 'bundle', 'instance.bundle.mjs');
          const bundled = config.mode === 'http' ? { ok: true as const } : await bundleInstance(file, challenge.routesModule, bundleFile, submission, dependencies, contractFiles());
          // Under bubblewrap an HTTP-mode instance sees the run folders and the run store's folder empty.
          const hide = [path.resolve(o.outDir ?? DEFAULTS.outDir), ...(o.store && !isStoreUrl(o.store) ? [path.dirname(path.resolve(o.store))] : [])];
          const launch: LaunchSpec = config.mode === 'http' ? { kind: 'http', start: config.start!, setup: config.setup, cwd: submission, maxLogBytes: o.maxLogBytes, hide } : moduleLaunch(bundleFile, dependencies.readable(), path.join(submission, 'package.json'));
          return { bundled, launch };
        })();
        launches.set(challenge, l);
      }
      return l;
    };
    const items: PlanItem[] = plan.map((p) => ({ challenge: p.m.challenge, scenario: p.s }));
    const ranScenarios: RanScenario[] = [];
    const ran = await runPlan(items, {
      async optionsFor({ challenge, scenario }, scenarioProgress, onHealed) {
        const { bundled, launch } = await launchFor(challenge);
        if (!bundled.ok) return { id: scenario.id, status: 'error', error: `the module does not compile:\n${bundled.error}`, checks: [fail('loads', `the module does not compile: ${bundled.error!.split('\n')[0]}`, { error: bundled.error })], metrics: { operations: 0, ok: 0, fail: 0, indeterminate: 0, p50Ms: 0, p99Ms: 0, throughputPerS: 0, maxInFlight: 0 } };
        return scenarioOptions(challenge, scenario, launch, scenarioProgress, onHealed);
      },
      mayRunReference: ({ challenge, scenario }) => mayRunReference(challenge, scenario, opts.profile, fileOf.get(challenge)!),
      after: (item, result, options) => {
        ranScenarios.push({ challenge: item.challenge, result, options, file: fileOf.get(item.challenge)! });
        return compareWithReference(result, options, fileOf.get(item.challenge)!, moduleLaunch, figureMemory);
      },
      onStart: ({ challenge, scenario }, i) => progress({ kind: 'scenario-start', challenge: challenge.id, scenario: scenario.id, index: i + 1, total: items.length }),
      onProgress: ({ challenge, scenario }, message, notice) => progress({ kind: 'scenario-progress', challenge: challenge.id, scenario: scenario.id, message, ...(notice ? { notice } : {}) }),
      ...(o.onWorkloadsOver ? { onLastHealed: o.onWorkloadsOver } : {}),
      onEnd: ({ challenge, scenario }, result) => {
        completed.push({ challenge: challenge.id, scenario: scenario.id, status: result.status });
        progress({ kind: 'scenario-end', challenge: challenge.id, scenario: scenario.id, result });
      },
    });
    // Slow calls where callers queue by design are judged against this machine's plainest correct design, once every
    // scenario (and its teardown) is over: nothing else of the grade runs beside that reference.
    if (ranScenarios.some(wantsYardstick)) {
      await teardowns.drain();
      await applyConvoyYardstick(ranScenarios, moduleLaunch, figureMemory, (message) => progress({ kind: 'infra', message }));
    }
    for (const { challenge, file } of modules) {
      if (!file) {
        results.push({ id: challenge.id, status: 'not-attempted', scenarios: [] });
        continue;
      }
      const scenarios = ran.filter((_, i) => items[i].challenge === challenge);
      const bundled = launches.has(challenge) ? (await launches.get(challenge)!).bundled : { ok: true };
      results.push({ id: challenge.id, status: challengeStatus(scenarios), file, scenarios, ...(bundled.ok ? {} : { error: 'the module does not compile' }) });
    }
  } finally {
    await teardowns.drain();
    unmarkInterrupted();
    dependencies.remove();
    // A failed cleanup is reported, never allowed to replace the error that ended the run (e.g. PostgreSQL stopped).
    if (ownInfra && infra) await infra.close().catch((err) => progress({ kind: 'infra', message: `cleanup: ${(err as Error).message}` }));
  }

  const evidence = await evidencePending;
  const { rubric, score, redFlags, concerns } = scoreChallenges(results, { evidence, manual: o.manual });
  const verdict = verdictOf(results, redFlags, score, o.minScore);
  const result: GradeResult = {
    schemaVersion: 1,
    tool: 'gauntlet',
    submission,
    seed: opts.seed,
    profile: opts.profile,
    verdict,
    score,
    redFlags,
    challenges: results,
    rubric,
    runId,
    runDir,
    instances: opts.instances,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    sandbox,
    machine,
    ...(infra ? { infrastructure: { postgres: `${infra.postgres.source} (PostgreSQL ${infra.postgres.version})`, redis: infra.redis ? `${infra.redis.source} (Redis ${infra.redis.version})` : `none: ${infra.redisProblem ?? ''}` } } : {}),
    concerns,
    evidence,
    ...(o.minScore !== undefined ? { minScore: o.minScore } : {}),
    ...(o.manual ? { manual: o.manual } : {}),
  };
  if (o.reports?.length) {
    try {
      result.reports = writeReports(result, o.reports, runDir);
    } catch (err) {
      progress({ kind: 'infra', message: `a report could not be written: ${(err as Error).message}` });
    }
  }
  fs.writeFileSync(path.join(runDir, 'result.json.tmp'), JSON.stringify(result, null, 2));
  fs.renameSync(path.join(runDir, 'result.json.tmp'), path.join(runDir, 'result.json'));
  // An interrupted run is recorded by its run folder (interrupted.json), never as a finished grade in the store.
  if (o.store && !interrupted()) await recordRun(o.store, result, { batch: o.batch }, (message) => progress({ kind: 'infra', message }));
  return result;
}

/**
 * Whether any scenario of this grade may compare with a reference (only then is the machine sampled): the benchmark
 * reference's throughput, or the convoy reference's answer times (any scenario of a challenge that has one).
 */
function wantsReferenceRun(o: GradeOptions): boolean {
  const profile = o.profile ?? DEFAULTS.profile;
  const ids = o.challenges;
  const selected = (s: ScenarioDef) => !o.scenarios || o.scenarios.includes(s.id);
  return registry.some((c) => (!ids || ids.includes(c.id)) && ((!!c.benchmarkReference && c.scenarios.some((s) => selected(s) && !!s.params[profile]?.compareReference)) || (!!c.convoyReference && c.scenarios.some(selected))));
}

/** The benchmark reference's figures remembered in the run store, opened for each read or write. */
function figuresIn(spec: string): ReferenceFigures {
  const withStore = async <T>(f: (s: RunStore) => Promise<T>): Promise<T> => {
    const store = await openStore(spec);
    try {
      return await f(store);
    } finally {
      await store.close();
    }
  };
  return { get: (key) => withStore((s) => s.referenceFigure(key)), put: (key, figure) => withStore((s) => s.putReferenceFigure(key, figure)) };
}

/** Store the run; a store that cannot be written costs the record, never the grade (said on stderr). */
async function recordRun(spec: string, result: GradeResult, extras: { batch?: string }, warn: (message: string) => void): Promise<void> {
  let store: RunStore | undefined;
  try {
    store = await openStore(spec);
    await store.recordRun(result, extras);
  } catch (err) {
    // A store that could not be opened names itself in the error (a URL with its password as ***).
    warn(store ? `the run was not recorded in ${store.location}: ${(err as Error).message}` : `the run was not recorded: ${(err as Error).message}`);
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function challengeStatus(scenarios: ScenarioResult[]): ChallengeResult['status'] {
  if (scenarios.some((s) => s.status === 'error')) return 'error';
  if (scenarios.some((s) => s.status === 'failed')) return 'failed';
  if (scenarios.some((s) => s.status === 'inconclusive')) return 'inconclusive';
  return 'passed';
}

/** Exit status for an `inconclusive` verdict (outside CONTRACT §7's 0–3; documented in docs/ci.md). */
export const EXIT_INCONCLUSIVE = 5;

/**
 * Exit status per CONTRACT §7: 0 the verdict is pass (and not below --min-score); 1 fail or reject, or below
 * --min-score; 5 inconclusive (the machine prevented a verdict: grade again).
 */
export function exitCodeOf(result: GradeResult, minScore?: number): 0 | 1 | typeof EXIT_INCONCLUSIVE {
  if (result.verdict === 'reject' || result.verdict === 'fail' || result.redFlags.length) return 1;
  if (minScore !== undefined && result.score.total < minScore) return 1;
  if (result.verdict === 'inconclusive') return EXIT_INCONCLUSIVE;
  return 0;
}

export type { GradeResult } from '../../rubric/result.ts';

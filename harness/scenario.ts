// The shape of a challenge and its scenarios, and the context the pipeline hands a scenario while it runs.
// A challenge folder implements these; nothing in harness/ knows any challenge by name.

import type { CheckResult, FaultWindow, InstanceEvent, Op, ProfileName, ScenarioMetrics, ChallengeId } from './types.ts';
import type { Rng } from './seed.ts';
import type { HttpRequest, HttpResponse, Target } from './generator/http-client.ts';
import type { SteadyLoadResult } from './generator/steady-load.ts';
import type { LedgerSnapshot, MockServicesHandle, ServicesSpec } from './services/types.ts';
import type { WireQueries } from './wire/query-log.ts';

/** What a scenario may do with the candidate's instances. */
export interface ClusterHandle {
  /** Number of instances (fixed for the scenario). */
  readonly size: number;
  /** The instance's current base URL (changes when it is restarted); for display when it is contained. */
  baseUrl(instance: number): string;
  /** Where to connect to the instance now: TCP, or the Unix socket of a contained instance. */
  target(instance: number): Target;
  /** True while the instance process is up. */
  isUp(instance: number): boolean;
  /** SIGKILL an instance (recorded as a harness kill, never against the candidate). */
  kill(instance: number): Promise<void>;
  /** Start a killed or dead instance again and wait until it serves. */
  restart(instance: number): Promise<void>;
  /** Start one more, fresh instance for final reads (e.g. `winner-durable`); returns its index. */
  startFresh(): Promise<number>;
  /** In-flight statistics the adapter of each instance measured since the last reset. */
  stats(): Promise<{ instance: number; inFlight: number; maxInFlight: number }[]>;
  resetStats(): Promise<void>;
}

/** Turns an HTTP answer into a history outcome; per challenge (its table of definite error codes). */
export type Decode = (res: HttpResponse) => { type: 'ok' | 'fail' | 'info'; value?: unknown; code?: string; error?: string };

export interface CallSpec {
  process: string;
  instance: number;
  f: string;
  args: Record<string, unknown>;
  phase: string;
  request: HttpRequest;
  decode: Decode;
  timeoutMs?: number;
}

export interface ClientHandle {
  /** One call → one history entry (invoke, then ok | fail | info). Never throws. */
  call(spec: CallSpec): Promise<Op>;
  /** Many calls released together: connections are opened first, then every request is written at once. */
  burst(specs: CallSpec[]): Promise<{ ops: Op[]; releaseSkewMs: number; connectMs: number; releasePriority?: 'realtime' | 'high' | 'normal' }>;
  /** Steady load (autocannon) against every instance for a duration; each answered request joins the history. */
  steady(opts: { durationMs: number; connectionsPerInstance: number; make(seq: number, instance: number): CallSpec }): Promise<SteadyLoadResult>;
}

export interface NemesisHandle {
  /** Added latency on every database packet, both directions, until healed. */
  dbLatency(latencyMs: number, jitterMs?: number): () => Promise<void>;
  /** Reset every open database connection now (a one-off fault, recorded as a short window). */
  dbReset(): Promise<void>;
  /** Stop forwarding database traffic (calls hang) until healed; healing resets the blackholed connections. */
  dbBlackhole(): () => Promise<void>;
  /** Terminate the candidate role's backends (pg_terminate_backend), mid-transaction where there are any. */
  killBackends(): Promise<number>;
  /** Whether the submission uses Redis (its instances sent commands of their own): only then do Redis faults test anything. */
  redisInUse(): boolean;
  /** Reset every open Redis connection now (a no-op without Redis). */
  redisReset(): Promise<void>;
  /** Added latency on every Redis packet until healed. */
  redisLatency(latencyMs: number, jitterMs?: number): () => Promise<void>;
  /** Stop forwarding Redis traffic until healed; healing resets the held connections. */
  redisBlackhole(): () => Promise<void>;
  /** Redis down until healed: open connections reset, new ones refused (as a stopped server's port). */
  redisDown(): () => Promise<void>;
  /** The cache emptied at once (FLUSHDB of the scenario's namespace: eviction, a restarted Redis); an instant window. */
  redisFlush(): Promise<void>;
  /** Challenges with a replica: the replication stream delayed by latencyMs (real lag) until healed. */
  replicaLag(latencyMs: number, jitterMs?: number): () => Promise<void>;
  /** Challenges with a replica: replication stopped until healed (the standby answers, further and further behind). */
  replicaStall(): () => Promise<void>;
  /** Challenges with a replica: the standby stopped (sessions end, connections refused); healing starts it again. */
  replicaDown(): Promise<() => Promise<void>>;
  /** Heal everything still active. */
  healAll(): Promise<void>;
  readonly windows: FaultWindow[];
}

export interface ScenarioContext {
  challenge: ChallengeId;
  scenario: string;
  seed: number;
  rng: Rng;
  profile: ProfileName;
  params: Record<string, number>;
  data: ScenarioData;
  cluster: ClusterHandle;
  client: ClientHandle;
  nemesis: NemesisHandle;
  /** The mock payments, notifications and inventory, when the scenario declares `services` (harness/services). */
  services?: MockServicesHandle;
  /** The SQL the instances sent so far, per server (challenges with a `replica`): for checks that count statements. */
  wire?: WireQueries;
  /** Challenges with a `replica`: how far the standby is behind the primary. */
  replica?: { lagBytes(): Promise<number>; waitCaughtUp(timeoutMs: number): Promise<void> };
  /** The history recorded so far. */
  history(): readonly Op[];
  /** Monotonic µs since the scenario started (the history's clock). */
  nowUs(): number;
  sleep(ms: number): Promise<void>;
  /** Progress line for the terminal (stderr). */
  progress(message: string): void;
  /** Extra figures for the scenario's metrics (burst skew, reference ratio ...). */
  metric(name: string, value: number | string | null): void;
  /** The secret instances got as WEBHOOK_SECRET / ctx.webhookSecret (the provider signs deliveries with it). */
  webhookSecret: string;
  /** Everything the module exports, as detected by the adapter (`reserveSeat`, `holdSeat` ...). */
  capabilities: string[];
  signal: AbortSignal;
}

export type ScenarioData = Record<string, unknown>;

export interface CheckInput<Final = unknown> {
  ops: Op[];
  final: Final;
  faults: FaultWindow[];
  instanceEvents: InstanceEvent[];
  params: Record<string, number>;
  data: ScenarioData;
  /** The mock services' ledgers after the final reads, when the scenario declares `services`. */
  ledger?: LedgerSnapshot;
}

export interface Checker<Final = unknown> {
  id: string;
  check(input: CheckInput<Final>): CheckResult;
}

export interface ScenarioDef<Final = unknown> {
  id: string;
  description: string;
  /** Parameters per profile (numbers only, so they merge and print simply). */
  params: Record<ProfileName, Record<string, number>>;
  /** Scenario data handed to the candidate's `setup` (e.g. `{ seats }`). */
  data(rng: Rng, params: Record<string, number>): ScenarioData;
  /** Module methods the scenario needs; when missing, the scenario is skipped ("not implemented"). */
  requires?: string[];
  /**
   * The mock services this scenario needs (catalogue, faults from the start, TTLs, settle bounds), or a function of its
   * data and params. Declaring it starts them, gives each instance its own PAYMENTS_URL etc., and puts the ledger in
   * CheckInput; without it the URLs are empty.
   */
  services?: ServicesSpec;
  /** The workload with its faults. Faults still active afterwards are healed by the pipeline. */
  run(ctx: ScenarioContext): Promise<void>;
  /** Reads after faults healed and the system settled; recorded in the history under phase `final`. */
  finalReads(ctx: ScenarioContext): Promise<Final>;
  /** The checkers this scenario runs, in report order. `loads` and `no-crash` are added by the pipeline. */
  checkers: Checker<Final>[];
  /** Optional extra metrics computed from the history. */
  metrics?(ops: Op[], params: Record<string, number>): Partial<ScenarioMetrics>;
}

export interface CheckInfo {
  id: string;
  /** One line: what the check asserts. */
  summary: string;
  /** Why it matters in production, for reports that teach. */
  why: string;
  /** A hint toward the fix, never the fix itself. */
  hint: string;
  /**
   * A violation is a wrong answer or a wrong final state that no slowness of the machine can cause (two winners, a
   * double charge, a forged event accepted). A starved machine never excuses it; other checks' failures on a starved
   * machine make the scenario `inconclusive`.
   */
  safety?: boolean;
  /**
   * The rubric items (rubric/rubric.ts ids) whose automatic "share of checks passed" part this check feeds. The
   * rubric derives its check lists from these; a check that feeds nothing earns nothing (a test says so).
   */
  rubric: string[];
  /** The red flag (CONTRACT §5; rubric/rubric.ts RED_FLAGS) a failure of this check raises, if any. */
  redFlag?: string;
}

export interface ChallengeDef {
  id: ChallengeId;
  title: string;
  /** Module file base name in a submission (`seat-reservation` → seat-reservation.ts|.mts|.js|.mjs). */
  file: string;
  /** Absolute path of the module exporting `routeTable` (the HTTP routes the module adapter serves). */
  routesModule: string;
  /** Absolute path of the challenge's contract file: the candidate-facing types and error classes (part of `gauntlet`). */
  contract: string;
  /** The stub `gauntlet init` writes as `<file>.ts`. */
  starter: string;
  /**
   * Its scenarios run on a primary + streaming standby pair (started once per grade): the scenario's database lives
   * on the primary, instances get REPLICA_URL / ctx.replica, the nemesis gets the replica faults, and ctx gets `wire`.
   */
  replica?: boolean;
  /** Module methods every submission must export on its service object. */
  requiredMethods: string[];
  optionalMethods: string[];
  /** The challenge's own checks; the registry appends the pipeline's `loads` and `no-crash` (harness/pipeline-checks.ts). */
  checks: CheckInfo[];
  /** The pipeline checks' why/hint in this challenge's words (e.g. what a crash drops here). */
  pipelineCheckNotes?: Partial<Record<'loads' | 'no-crash', { why?: string; hint?: string }>>;
  scenarios: ScenarioDef<any>[];
  /**
   * What of a scenario's data the contract gives the candidate (`ctx.scenario`, the `GAUNTLET_SCENARIO` file):
   * never the workload's plan or expected outcomes, which would let a submission answer from an oracle.
   */
  candidateView(data: Record<string, unknown>): Record<string, unknown>;
  /**
   * Hostile strings (with quotes) this challenge's scenarios send as caller input: found in the SQL text the
   * submission sends, outside a string literal, they show SQL built from input (`security-vulnerability`).
   */
  injectionProbes?: string[];
  /**
   * The fastest reference solution: scenarios whose params set `compareReference: 1` also run it in the same
   * run, and report the submission's throughput as a ratio to it.
   */
  benchmarkReference?: string;
  /**
   * The plainest correct reference whose callers queue behind one lock by design (a transaction per call holding a
   * row lock): a scenario with calls answered after the answer deadline runs it too, and a call is slow only past
   * CONVOY_SLACK × its slowest answer on this machine when that is longer (harness/app/convoy-yardstick.ts).
   */
  convoyReference?: string;
}

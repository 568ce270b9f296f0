// `gauntlet compare --batch <tag>` as a value: the batch's runs ranked by verdict and score, each with its red
// flags and failed checks, and the pairs of submissions (or a submission and a reference solution) whose code is
// unusually similar (similarity.ts) — for a human to look at, never a verdict. The object is the `--json` form
// (plain data only); render.ts prints it for a terminal or as Markdown. No database: the caller hands in the runs.

import type { GradeResult } from '../../../rubric/result.ts';
import { boilerplateHashes } from './boilerplate.ts';
import { loadReferences, type ReferenceSource } from './references.ts';
import { DEFAULTS, fingerprintSource, similarPairs, tooSmallToCompare, type Comparand, type SimilarPair } from './similarity.ts';

export interface BatchEntry {
  runId: string;
  /** The submission's path or name. */
  label: string;
  result: GradeResult;
  /** The submission's files (relative path → text) as stored with the run, or null when none were stored. */
  source: Record<string, string> | null;
  /**
   * Who handed it in, when the label alone does not say (e.g. a candidate id): runs sharing it are one submission
   * graded more than once and are never compared with each other. Default: the label.
   */
  candidate?: string;
}

const candidateOf = (e: BatchEntry) => e.candidate ?? e.label;

export interface BatchOptions {
  /** The batch's tag, for the heading. */
  tag?: string;
  /** Reference solutions to compare with (default: the repository's, loadReferences()); [] for none. */
  references?: ReferenceSource[];
  /** Hashes never counted (default: the starters and contracts, boilerplateHashes()). */
  ignore?: Set<number>;
  /** Percent from which a pair is listed (default DEFAULTS.threshold). */
  threshold?: number;
  /** Fewer fingerprints than this: not compared (default DEFAULTS.minFingerprints). */
  minFingerprints?: number;
  maxRegions?: number;
}

export type Verdict = GradeResult['verdict'];
export const VERDICT_ORDER: Verdict[] = ['pass', 'inconclusive', 'fail', 'reject'];

export interface RankRow {
  /** 1-based; runs with the same verdict and total share a rank (1, 2, 2, 4). */
  rank: number;
  runId: string;
  label: string;
  verdict: Verdict;
  total: number;
  automated: number;
  automatedMax: number;
  /** null: not scored by an interviewer yet (the total is then the automated part only). */
  manual: number | null;
  manualMax: number;
  profile: string;
  redFlags: string[];
  /** `challenge/scenario:check` of every check that failed (passed === false) outside inconclusive scenarios. */
  failedChecks: string[];
  /** `challenge/scenario` of scenarios the machine kept from a verdict: their failures are not listed above. */
  inconclusive: string[];
  /** The grading machine's id (GradeResult.machine), when the run records it. */
  machine: string | null;
  host: string | null;
}

export interface TooSmall {
  id: string;
  label: string;
  kind: 'run' | 'reference';
  fingerprints: number;
}

export interface BatchReport {
  schemaVersion: 1;
  tag: string | null;
  runs: number;
  verdicts: Record<Verdict, number>;
  ranking: RankRow[];
  similarity: {
    /** What `similarity` means: shared fingerprints / the smaller submission's fingerprints. */
    metric: 'overlap';
    threshold: number;
    minFingerprints: number;
    k: number;
    w: number;
    /** Runs compared (with source and big enough) and references compared with. */
    compared: number;
    references: number;
  };
  similar: SimilarPair[];
  tooSmall: TooSmall[];
  /** Runs without stored source: ranked, not compared. */
  noSource: { runId: string; label: string }[];
  notes: string[];
}

/** The machine a run names, read defensively (older results have none). */
function machineOf(r: GradeResult): { id: string | null; host: string | null } {
  const m = (r as { machine?: { id?: unknown; host?: unknown } | null }).machine;
  return { id: typeof m?.id === 'string' ? m.id : null, host: typeof m?.host === 'string' ? m.host : null };
}

export function failedChecks(r: GradeResult): { failed: string[]; inconclusive: string[] } {
  const failed: string[] = [];
  const inconclusive: string[] = [];
  for (const ch of r.challenges ?? []) {
    for (const s of ch.scenarios ?? []) {
      if (s.status === 'inconclusive') {
        inconclusive.push(`${ch.id}/${s.id}`);
        continue;
      }
      for (const k of s.checks ?? []) if (k.passed === false) failed.push(`${ch.id}/${s.id}:${k.id}`);
    }
  }
  return { failed, inconclusive };
}

/** Verdict (pass > inconclusive > fail > reject), then total descending, then runId; ties share a rank. */
export function rankRuns(entries: BatchEntry[]): RankRow[] {
  const sorted = [...entries].sort(
    (a, b) =>
      VERDICT_ORDER.indexOf(a.result.verdict) - VERDICT_ORDER.indexOf(b.result.verdict) ||
      b.result.score.total - a.result.score.total ||
      (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0),
  );
  const rows: RankRow[] = [];
  sorted.forEach((e, i) => {
    const r = e.result;
    const prev = rows[i - 1];
    const tied = prev && prev.verdict === r.verdict && prev.total === r.score.total;
    const { failed, inconclusive } = failedChecks(r);
    const machine = machineOf(r);
    rows.push({
      rank: tied ? prev.rank : i + 1,
      runId: e.runId,
      label: e.label,
      verdict: r.verdict,
      total: r.score.total,
      automated: r.score.automated,
      automatedMax: r.score.automatedMax,
      manual: r.score.manual,
      manualMax: r.score.manualMax,
      profile: r.profile,
      redFlags: (r.redFlags ?? []).map((f) => f.id),
      failedChecks: failed,
      inconclusive,
      machine: machine.id,
      host: machine.host,
    });
  });
  return rows;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (items: string[], max = 6) => items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length - max} more)` : '');

function notesFor(entries: BatchEntry[], ranking: RankRow[], noSource: BatchEntry[], tooSmall: TooSmall[], threshold: number): string[] {
  const notes: string[] = [];
  notes.push(`Similarity is a prompt for a human to look at the code, never a verdict: shared structure can come from a common tutorial, a library's documented idiom, an assistant's suggestion or the reference discussed in an interview. Pairs at or above ${threshold} % are listed with the lines to compare.`);
  const machines = [...new Set(ranking.flatMap((r) => (r.machine ? [r.machine] : [])))];
  const hosts = new Map(ranking.filter((r) => r.machine).map((r) => [r.machine!, r.host]));
  if (machines.length > 1) notes.push(`Runs come from ${machines.length} machines (${list(machines.map((m) => (hosts.get(m) ? `${m} on ${hosts.get(m)}` : m)))}): timing figures (latency, throughput, the throughput ratio) are not comparable across machines.`);
  const unknown = ranking.filter((r) => !r.machine).length;
  if (machines.length && unknown) notes.push(`${plural(unknown, 'run does', 'runs do')} not record the machine that graded ${unknown === 1 ? 'it' : 'them'}: ${unknown === 1 ? 'its' : 'their'} timing figures may come from yet another machine.`);
  const profiles = [...new Set(ranking.map((r) => r.profile))];
  if (profiles.length > 1) notes.push(`Runs were graded with different profiles (${profiles.join(', ')}): scores compare only within one profile.`);
  const unscored = ranking.filter((r) => r.manual === null).length;
  if (unscored && unscored < ranking.length) notes.push(`${plural(unscored, 'run awaits', 'runs await')} manual scoring: ${unscored === 1 ? 'its' : 'their'} total is the automated part only, so ${unscored === 1 ? 'it ranks' : 'they rank'} below equal work that was scored.`);
  else if (unscored && ranking.length) notes.push('No run has manual scores yet: totals are the automated part only.');
  const byCandidate = new Map<string, string[]>();
  for (const e of entries) byCandidate.set(candidateOf(e), [...(byCandidate.get(candidateOf(e)) ?? []), e.runId]);
  for (const [who, runs] of byCandidate) if (runs.length > 1) notes.push(`${who} has ${runs.length} runs in this batch (${list(runs)}): each is ranked; they are never compared with each other.`);
  if (noSource.length) notes.push(`${plural(noSource.length, 'run has', 'runs have')} no stored source, so ${noSource.length === 1 ? 'it was' : 'they were'} ranked but not compared: ${list(noSource.map((e) => `${e.label} (${e.runId})`))}.`);
  const smallRuns = tooSmall.filter((t) => t.kind === 'run').length;
  if (smallRuns) notes.push(`${plural(smallRuns, 'submission is', 'submissions are')} too small to compare (fewer than the fingerprints needed once the starter code is left out): not enough evidence either way.`);
  return notes;
}

export function buildBatchReport(entries: BatchEntry[], opts: BatchOptions = {}): BatchReport {
  const threshold = opts.threshold ?? DEFAULTS.threshold;
  const minFingerprints = opts.minFingerprints ?? DEFAULTS.minFingerprints;
  const ignore = opts.ignore ?? boilerplateHashes();
  const references = opts.references ?? loadReferences();
  const ranking = rankRuns(entries);
  const withSource = entries.filter((e) => e.source && Object.keys(e.source).length);
  const compared = new Set(withSource);
  const noSource = entries.filter((e) => !compared.has(e));
  const runs: Comparand[] = withSource.map((e) => ({ id: e.runId, label: e.label, group: candidateOf(e), fingerprints: fingerprintSource(e.source!, ignore) }));
  const refs: Comparand[] = references.map((r) => ({ id: r.id, label: `reference/${r.challenge}/${r.name}`, fingerprints: fingerprintSource(r.files, ignore) }));
  const tooSmall: TooSmall[] = [
    ...runs.filter((c) => tooSmallToCompare(c, minFingerprints)).map((c) => ({ id: c.id, label: c.label, kind: 'run' as const, fingerprints: c.fingerprints.hashes.size })),
    ...refs.filter((c) => tooSmallToCompare(c, minFingerprints)).map((c) => ({ id: c.id, label: c.label, kind: 'reference' as const, fingerprints: c.fingerprints.hashes.size })),
  ];
  const similar = similarPairs(runs, refs, { threshold, minFingerprints, maxRegions: opts.maxRegions });
  const verdicts = Object.fromEntries(VERDICT_ORDER.map((v) => [v, ranking.filter((r) => r.verdict === v).length])) as Record<Verdict, number>;
  return {
    schemaVersion: 1,
    tag: opts.tag ?? null,
    runs: entries.length,
    verdicts,
    ranking,
    similarity: {
      metric: 'overlap',
      threshold,
      minFingerprints,
      k: DEFAULTS.k,
      w: DEFAULTS.w,
      compared: runs.length - tooSmall.filter((t) => t.kind === 'run').length,
      references: refs.length - tooSmall.filter((t) => t.kind === 'reference').length,
    },
    similar,
    tooSmall,
    noSource: noSource.map((e) => ({ runId: e.runId, label: e.label })),
    notes: notesFor(entries, ranking, noSource, tooSmall, threshold),
  };
}

// Turns a run's results into rubric lines, a score, red flags and concerns. Pure: results, evidence and manual
// scores in, values out. An automatic part earns its points by the share of its checks that passed — per
// challenge, over every scenario of that challenge that ran them, averaged over the challenges the check ids
// belong to — or by a measure. A challenge in the run but not attempted counts 0; a scenario that could not run
// its checks (did not load, not implemented) counts them as failed; a scenario whose environment failed (no
// Redis) and a scenario not selected count neither way. Unmeasured parts hand their points to the item's other
// parts. Manual parts stay null until an interviewer scores them.

import type { ChallengeResult } from '../harness/types.ts';
import type { Concern, GradeResult, RedFlag, RubricLine, Score } from './result.ts';
import type { SubmissionEvidence } from './evidence/types.ts';
import { CONTRACT_CHECKS, RED_FLAGS, RUBRIC, autoPoints, type AutoPart, type RubricItem } from './rubric.ts';
import { measure, ran, wireOf, type MeasureResult } from './measures.ts';

/** The `check` of a security-vulnerability red flag raised by an injection probe found in SQL text. */
export const INJECTION_FLAG_CHECK = 'injection-probe';
import { findConcerns } from './concerns.ts';
import { MANUAL_SCALE, type ManualScoring } from './manual.ts';
import { challenges as registry } from '../challenges/index.ts';

/** The checks a scenario runs when it runs (undefined: unknown, judge by the checks present). */
export type ExpectedChecks = (challenge: string, scenario: string) => string[] | undefined;

export interface ScoreInput {
  manual?: ManualScoring;
  evidence?: SubmissionEvidence;
  expectedChecks?: ExpectedChecks;
  /** Check ids by challenge (CONTRACT §5 plus the registry's); defaults to both. */
  checksByChallenge?: Record<string, string[]>;
}

export interface Scored {
  rubric: RubricLine[];
  score: Score;
  redFlags: RedFlag[];
  concerns: Concern[];
}

export const registryExpectedChecks: ExpectedChecks = (challenge, scenario) => {
  const s = registry.find((c) => c.id === challenge)?.scenarios.find((x) => x.id === scenario);
  return s ? s.checkers.map((k) => k.id) : undefined;
};

function defaultChecksByChallenge(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, checks] of Object.entries(CONTRACT_CHECKS)) out[id] = [...checks];
  for (const c of registry) out[c.id] = [...new Set([...(out[c.id] ?? []), ...c.checks.map((k) => k.id)])];
  return out;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Share of the given checks that passed: per challenge over its scenarios, then the mean over challenges. */
export function checkShare(checkIds: string[], challenges: ChallengeResult[], input: ScoreInput = {}): MeasureResult {
  const byChallenge = input.checksByChallenge ?? defaultChecksByChallenge();
  const expected = input.expectedChecks ?? registryExpectedChecks;
  const common = byChallenge['*'] ?? [];
  const parts: { share: number; text: string }[] = [];
  const ran = new Set<string>();
  for (const ch of challenges) {
    const own = new Set([...(byChallenge[ch.id] ?? []), ...common]);
    const relevant = checkIds.filter((id) => own.has(id));
    if (!relevant.length) continue;
    if (ch.status === 'not-attempted') {
      parts.push({ share: 0, text: `${ch.id}: not attempted (0)` });
      continue;
    }
    let passed = 0;
    let total = 0;
    const failed: string[] = [];
    for (const sc of ch.scenarios) {
      if (sc.environmentError || sc.status === 'inconclusive') continue;
      const present = sc.checks.map((c) => c.id);
      const scenarioChecks = expected(ch.id, sc.id);
      // A scenario that ran checks no others: loads/no-crash belong to every scenario that started instances.
      const would = sc.skipped ? (scenarioChecks ?? []) : [...new Set([...(scenarioChecks ?? []), ...(scenarioChecks ? common : []), ...present])];
      for (const id of relevant.filter((r) => would.includes(r))) {
        total++;
        const c = sc.checks.find((x) => x.id === id);
        if (c) ran.add(id);
        if (c?.passed === true) passed++;
        else failed.push(`${id} in ${sc.id}${c ? (c.passed === null ? ' (undecided)' : '') : sc.skipped ? ' (not implemented)' : ' (did not run)'}`);
      }
    }
    if (!total) continue;
    parts.push({ share: passed / total, text: `${ch.id}: ${passed} of ${total} passed${failed.length ? ` (failed: ${[...new Set(failed)].slice(0, 4).join(', ')}${failed.length > 4 ? ', …' : ''})` : ''}` });
  }
  if (!parts.length) return { share: null, detail: 'not measured: none of its checks ran in this run', evidence: [] };
  return { share: parts.reduce((s, p) => s + p.share, 0) / parts.length, detail: parts.map((p) => p.text).join('; '), evidence: checkIds.filter((id) => ran.has(id)) };
}

/**
 * Measured evidence (code quality, safety, design) judges code that ran: a challenge whose module never loaded
 * earns nothing for it (issue: a stub that does nothing earned points). With several challenges, a measure keeps
 * the share of the attempted challenges that ran.
 */
function partResult(part: AutoPart, challenges: ChallengeResult[], input: ScoreInput): MeasureResult {
  if ('checks' in part) return checkShare(part.checks, challenges, input);
  const r = measure(part.measure, { challenges, evidence: input.evidence });
  const attempted = challenges.filter((c) => c.status !== 'not-attempted');
  const idle = attempted.filter((c) => !ran(c));
  if (r.share === null || !idle.length) return r;
  const factor = (attempted.length - idle.length) / attempted.length;
  const why = `${idle.map((c) => c.id).join(', ')} never ran (its module did not load): nothing to judge there`;
  return { ...r, share: Math.round(r.share * factor * 100) / 100, detail: factor === 0 ? `nothing to judge: ${why}` : `${r.detail} (× ${Math.round(factor * 100) / 100}: ${why})` };
}

function linesFor(item: RubricItem, challenges: ChallengeResult[], input: ScoreInput): RubricLine[] {
  const lines: RubricLine[] = [];
  const mixed = !!(item.auto && item.manual);
  const base = { section: item.section, item: item.item, id: item.id, ...(mixed ? { mixed: true } : {}) };
  let movedToManual = 0;
  if (item.auto) {
    const nominal = autoPoints(item);
    const results = item.auto.map((p) => ({ part: p, r: partResult(p, challenges, input) }));
    const measured = results.filter((x) => x.r.share !== null);
    const measuredPoints = measured.reduce((s, x) => s + x.part.points, 0);
    let points = nominal;
    let awarded = 0;
    let detail: string;
    if (measured.length) {
      const scale = nominal / measuredPoints;
      awarded = round1(measured.reduce((s, x) => s + x.r.share! * x.part.points * scale, 0));
      detail = results.map((x) => x.r.detail).join(' · ');
    } else if (item.manual) {
      movedToManual = nominal;
      points = 0;
      detail = `${results.map((x) => x.r.detail).join(' · ')} — its ${nominal} points go to the manual part`;
    } else if (challenges.some((c) => c.status !== 'not-attempted' && ran(c))) {
      // Nothing measured although code ran (e.g. security for an HTTP-mode server in Python): the item leaves the
      // automated maximum instead of scoring 0 against evidence nobody could gather.
      points = 0;
      detail = `${results.map((x) => x.r.detail).join(' · ')} — nothing could be measured, so its ${nominal} points leave the automated maximum`;
    } else {
      detail = results.map((x) => x.r.detail).join(' · ');
    }
    const seen = observedOnTheWire(item.id, challenges);
    if (seen) detail = `${detail} · seen on the wire: ${seen}`;
    const line: RubricLine = { ...base, points, awarded, source: 'auto', evidence: [...new Set([...results.flatMap((x) => x.r.evidence), ...(seen ? ['wire:sql'] : [])])], detail };
    const override = input.manual?.overrides?.[item.id];
    if (override) {
      line.autoAwarded = awarded;
      line.awarded = round1(Math.max(0, Math.min(points, override.awarded)));
      line.detail = `${detail} — overridden by the interviewer (${awarded} → ${line.awarded}): ${override.note}`;
    }
    lines.push(line);
  }
  if (item.manual) {
    const points = item.manual + movedToManual;
    const entry = input.manual?.scores[item.id];
    const awarded = entry ? round1((Math.max(0, Math.min(MANUAL_SCALE, entry.score)) / MANUAL_SCALE) * points) : null;
    const detail = entry ? `scored ${entry.score}/${MANUAL_SCALE}${input.manual?.interviewer ? ` by ${input.manual.interviewer}` : ''}${entry.note ? `: ${entry.note}` : ''}` : `awaits an interviewer (score 0–${MANUAL_SCALE} with the guide: gauntlet score)`;
    lines.push({ ...base, points, awarded, source: 'manual', evidence: [], detail });
  }
  return lines;
}

/**
 * What the recorded wire shows about an item's subject, for its rubric line (evidence, never points): the locks
 * and other concurrency control the statements used, for locking and distributed systems; Redis locks and how
 * they were released; transient errors and whether they were retried, for error recovery.
 */
function observedOnTheWire(itemId: string, challenges: ChallengeResult[]): string | null {
  const wires = challenges.flatMap((c) => c.scenarios.flatMap((s) => wireOf(s) ?? []));
  if (!wires.length) return null;
  if (itemId === 'locking' || itemId === 'distributed-systems') {
    const counts = new Map<string, number>();
    for (const w of wires) for (const t of w.techniques) counts.set(t.technique, (counts.get(t.technique) ?? 0) + t.count);
    const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ×${n}`);
    const locks = wires.flatMap((w) => (w.redisLocks ? [w.redisLocks] : []));
    if (locks.length) {
      const sum = (k: 'acquired' | 'withoutExpiry' | 'releasedByDel' | 'releasedByScript') => locks.reduce((n, l) => n + l[k], 0);
      parts.push(`Redis SET NX locks ×${sum('acquired')} (${sum('withoutExpiry')} without expiry; released by an owner-checking script ×${sum('releasedByScript')}, by a plain DEL ×${sum('releasedByDel')})`);
    }
    return parts.length ? parts.join(', ') : 'no row lock, advisory lock, strict isolation, conditional write, upsert or Redis lock';
  }
  if (itemId === 'error-recovery') {
    const count = wires.reduce((n, w) => n + w.transientErrors.count, 0);
    const retried = wires.reduce((n, w) => n + w.transientErrors.retried, 0);
    return count ? `${count} transient database error(s) (serialization failures, deadlocks, killed backends), ${retried} followed by the same statement again` : null;
  }
  return null;
}

export function findRedFlags(challenges: ChallengeResult[]): RedFlag[] {
  const redFlags: RedFlag[] = [];
  for (const flag of RED_FLAGS) {
    for (const ch of challenges) {
      for (const sc of ch.scenarios) {
        if (sc.status === 'inconclusive') continue; // the machine's fault: no flag on what it explains
        const c = sc.checks.find((x) => flag.checks.includes(x.id) && x.passed === false);
        if (c && !redFlags.some((f) => f.id === flag.id)) redFlags.push({ id: flag.id, check: c.id, evidence: `${ch.id}/${sc.id}: ${c.message}` });
      }
    }
  }
  // An injection probe pasted into SQL text (CONTRACT §5), observed on the wire: exact, so it rejects like a check.
  for (const ch of challenges) {
    for (const sc of ch.scenarios) {
      const w = wireOf(sc);
      if (!w?.injection.count || sc.status === 'inconclusive' || redFlags.some((f) => f.id === 'security-vulnerability')) continue;
      const first = w.injection.examples[0];
      redFlags.push({ id: 'security-vulnerability', check: INJECTION_FLAG_CHECK, evidence: `${ch.id}/${sc.id}: ${first.what}${w.injection.count > 1 ? ` (${w.injection.count} statements)` : ''}: ${first.statements[0] ?? ''}` });
    }
  }
  return redFlags;
}

export function scoreChallenges(challenges: ChallengeResult[], input: ScoreInput = {}): Scored {
  const rubric = RUBRIC.flatMap((item) => linesFor(item, challenges, input));
  const auto = rubric.filter((l) => l.source === 'auto');
  const man = rubric.filter((l) => l.source === 'manual');
  const automated = round1(auto.reduce((s, l) => s + (l.awarded ?? 0), 0));
  const manualScored = man.some((l) => l.awarded !== null) ? round1(man.reduce((s, l) => s + (l.awarded ?? 0), 0)) : null;
  const score: Score = {
    automated,
    automatedMax: auto.reduce((s, l) => s + l.points, 0),
    manual: manualScored,
    manualMax: man.reduce((s, l) => s + l.points, 0),
    total: round1(automated + (manualScored ?? 0)),
    max: 100,
  };
  return { rubric, score, redFlags: findRedFlags(challenges), concerns: findConcerns(challenges, input.evidence) };
}

/** CONTRACT §7 and docs/decisions.md: reject on a red flag; pass when every attempted challenge passed and the gate holds. */
export function verdictOf(challenges: ChallengeResult[], redFlags: RedFlag[], score: Score, minScore?: number): GradeResult['verdict'] {
  if (redFlags.length) return 'reject';
  const attempted = challenges.filter((c) => c.status !== 'not-attempted');
  if (!attempted.length || attempted.some((c) => c.status === 'failed' || c.status === 'error')) return 'fail';
  // The machine prevented a verdict somewhere, and nothing else failed (CONTRACT §7).
  if (attempted.some((c) => c.status === 'inconclusive')) return 'inconclusive';
  return minScore === undefined || score.total >= minScore ? 'pass' : 'fail';
}

/** Sum of points and awarded per section, in rubric order. */
export function sectionTotals(rubric: RubricLine[]): { section: string; points: number; awarded: number; pending: number }[] {
  const out: { section: string; points: number; awarded: number; pending: number }[] = [];
  for (const l of rubric) {
    let s = out.find((x) => x.section === l.section);
    if (!s) out.push((s = { section: l.section, points: 0, awarded: 0, pending: 0 }));
    s.points += l.points;
    if (l.awarded === null) s.pending += l.points;
    else s.awarded = round1(s.awarded + l.awarded);
  }
  return out;
}

/** A stored result re-scored with (new) manual scores: rubric, score, verdict and concerns recomputed. */
export function rescore(result: GradeResult, manual: ManualScoring | undefined): GradeResult {
  const scored = scoreChallenges(result.challenges, { manual, evidence: result.evidence });
  return {
    ...result,
    rubric: scored.rubric,
    score: scored.score,
    redFlags: scored.redFlags,
    concerns: scored.concerns,
    verdict: verdictOf(result.challenges, scored.redFlags, scored.score, result.minScore),
    ...(manual ? { manual } : {}),
  };
}

export { RUBRIC };

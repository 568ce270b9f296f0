// Manual scores: what an interviewer gives an item's manual part (0–5 on the guide's scale), and overrides of an
// automatic line with a reason. Parsed and validated from `gauntlet score --manual scores.json`, or built by the
// interactive scorer; stored with the run.

import { UsageError } from '../harness/errors.ts';
import { autoPoints, findItem, RUBRIC } from './rubric.ts';

export interface ManualEntry {
  /** 0–5 on the item's guide (0, 3 and 5 are described); scaled to the manual part's points. */
  score: number;
  note?: string;
}

export interface ManualScoring {
  interviewer?: string;
  scoredAt?: string;
  /** Item id → score of the item's manual part. */
  scores: Record<string, ManualEntry>;
  /** Item id → points for an automatic line the interviewer corrects, always with the reason. */
  overrides?: Record<string, { awarded: number; note: string }>;
}

export const MANUAL_SCALE = 5;

const manualItems = () => RUBRIC.filter((i) => i.manual);

/**
 * Accepts `{ "scores": { "<item>": 4 | { "score": 4, "note": "…" } }, "overrides": { "<item>": { "awarded": 3, "note": "…" } }, "interviewer": "…" }`
 * or the flat `{ "<item>": 4, … }`. Items are named by id (`database-design`), name (`Database design rationale`)
 * or `Section / Item`. A score of `null` removes an earlier one.
 */
export function parseManualScores(doc: unknown, source = 'manual scores'): { scoring: ManualScoring; removed: string[] } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${source}: expected a JSON object`, 'e.g. { "scores": { "technology-choices": 4 } }');
  const d = doc as Record<string, unknown>;
  const flat = !('scores' in d) && !('overrides' in d);
  const rawScores = (flat ? d : d.scores ?? {}) as Record<string, unknown>;
  if (typeof rawScores !== 'object' || Array.isArray(rawScores)) throw new UsageError(`${source}: "scores" must be an object of item → score`);
  const scores: Record<string, ManualEntry> = {};
  const removed: string[] = [];
  for (const [key, value] of Object.entries(rawScores)) {
    if (flat && ['interviewer', 'scoredAt'].includes(key)) continue;
    const item = findItem(key);
    if (!item) throw new UsageError(`${source}: unknown rubric item "${key}"`, `items with a manual part: ${manualItems().map((i) => i.id).join(', ')}`);
    if (!item.manual) throw new UsageError(`${source}: "${item.item}" is scored automatically`, `to correct it, use "overrides": { "${item.id}": { "awarded": <points>, "note": "why" } }`);
    if (value === null) {
      removed.push(item.id);
      continue;
    }
    const entry = typeof value === 'number' ? { score: value } : (value as ManualEntry);
    if (!entry || typeof entry.score !== 'number' || !Number.isFinite(entry.score) || entry.score < 0 || entry.score > MANUAL_SCALE) {
      throw new UsageError(`${source}: the score of "${item.id}" must be a number from 0 to ${MANUAL_SCALE}, got ${JSON.stringify(value)}`, 'the guide describes 0, 3 and 5; anything between is allowed');
    }
    if (entry.note !== undefined && typeof entry.note !== 'string') throw new UsageError(`${source}: the note of "${item.id}" must be a string`);
    scores[item.id] = { score: Math.round(entry.score * 10) / 10, ...(entry.note ? { note: entry.note } : {}) };
  }
  const overrides: Record<string, { awarded: number; note: string }> = {};
  for (const [key, value] of Object.entries((flat ? {} : d.overrides ?? {}) as Record<string, unknown>)) {
    const item = findItem(key);
    if (!item) throw new UsageError(`${source}: unknown rubric item "${key}" in overrides`);
    if (!item.auto) throw new UsageError(`${source}: "${item.item}" has no automatic part to override`, `score it in "scores" instead`);
    const v = value as { awarded?: unknown; note?: unknown };
    const max = autoPoints(item);
    if (typeof v?.awarded !== 'number' || v.awarded < 0 || v.awarded > max) throw new UsageError(`${source}: the override of "${item.id}" needs "awarded" from 0 to ${max}`);
    if (typeof v.note !== 'string' || !v.note.trim()) throw new UsageError(`${source}: the override of "${item.id}" needs a "note" saying why`, 'an override without a reason cannot be reviewed');
    overrides[item.id] = { awarded: v.awarded, note: v.note.trim() };
  }
  const interviewer = typeof d.interviewer === 'string' ? d.interviewer : undefined;
  return { scoring: { ...(interviewer ? { interviewer } : {}), scores, ...(Object.keys(overrides).length ? { overrides } : {}) }, removed };
}

/** Later scores win item by item; `removed` items lose their earlier score. */
export function mergeManual(base: ManualScoring | undefined, next: ManualScoring, removed: string[] = []): ManualScoring {
  const scores = { ...(base?.scores ?? {}), ...next.scores };
  for (const id of removed) delete scores[id];
  const overrides = { ...(base?.overrides ?? {}), ...(next.overrides ?? {}) };
  return {
    ...(next.interviewer ?? base?.interviewer ? { interviewer: next.interviewer ?? base?.interviewer } : {}),
    scoredAt: next.scoredAt ?? new Date().toISOString(),
    scores,
    ...(Object.keys(overrides).length ? { overrides } : {}),
  };
}

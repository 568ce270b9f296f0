// Turns check results into rubric lines, a score and red flags. An auto item earns its points in proportion
// to the checks behind it that passed, over every scenario that ran them; an item none of whose checks ran
// (its challenge not attempted) earns nothing. Manual items stay null until an interviewer scores them.

import type { ChallengeResult, RedFlag, RubricLine, Score } from '../harness/types.ts';
import { RED_FLAGS, RUBRIC } from './rubric.ts';

export function scoreChallenges(challenges: ChallengeResult[], manual: Record<string, number> = {}): { rubric: RubricLine[]; score: Score; redFlags: RedFlag[] } {
  const results = new Map<string, { passed: number; total: number }>();
  for (const ch of challenges) {
    for (const sc of ch.scenarios) {
      for (const c of sc.checks) {
        const r = results.get(c.id) ?? results.set(c.id, { passed: 0, total: 0 }).get(c.id)!;
        r.total++;
        if (c.passed === true) r.passed++;
      }
    }
  }
  const rubric: RubricLine[] = RUBRIC.map((item) => {
    if (item.source === 'manual') {
      const key = `${item.section} / ${item.item}`;
      const awarded = key in manual ? Math.max(0, Math.min(item.points, manual[key])) : null;
      return { section: item.section, item: item.item, points: item.points, awarded, source: 'manual', evidence: [] };
    }
    const ran = (item.checks ?? []).filter((id) => results.has(id));
    let passed = 0;
    let total = 0;
    for (const id of ran) {
      passed += results.get(id)!.passed;
      total += results.get(id)!.total;
    }
    const awarded = total ? Math.round((item.points * passed * 10) / total) / 10 : 0;
    return { section: item.section, item: item.item, points: item.points, awarded, source: 'auto', evidence: ran };
  });
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
  const redFlags: RedFlag[] = [];
  for (const flag of RED_FLAGS) {
    for (const ch of challenges) {
      for (const sc of ch.scenarios) {
        const c = sc.checks.find((x) => flag.checks.includes(x.id) && x.passed === false);
        if (c && !redFlags.some((f) => f.id === flag.id)) redFlags.push({ id: flag.id, check: c.id, evidence: `${ch.id}/${sc.id}: ${c.message}` });
      }
    }
  }
  return { rubric, score, redFlags };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

// The command that grades a stored result again the same way: the seed and profile, and also the challenges,
// scenarios and instance count the run was narrowed to (without them, `reproduce:` would grade every challenge and
// call the ones the submission left out "not attempted"). Derived from the result alone, so `gauntlet show` of an
// old run prints it too.

import type { GradeResult } from '../../../rubric/result.ts';
import { challenges as registry } from '../../../challenges/index.ts';

/** `gauntlet grade <submission> --seed … --profile …` plus `--challenge`, `--scenario` and `--instances` when they narrowed the run. */
export function reproduceCommand(r: Pick<GradeResult, 'submission' | 'seed' | 'profile' | 'instances' | 'challenges'>): string {
  const args = [`gauntlet grade ${r.submission}`];
  const graded = r.challenges.map((c) => c.id);
  const all = registry.map((c) => c.id);
  if (graded.length && (graded.length !== all.length || !all.every((id) => graded.includes(id)))) args.push(`--challenge ${graded.join(',')}`);
  // Scenarios: what ran, against what the attempted challenges have; a challenge without a module ran none.
  const attempted = r.challenges.filter((c) => c.scenarios.length > 0);
  const ran = attempted.flatMap((c) => c.scenarios.map((s) => s.id));
  const defined = attempted.flatMap((c) => registry.find((d) => d.id === c.id)?.scenarios.map((s) => s.id) ?? []);
  if (ran.length && ran.length < defined.length) args.push(`--scenario ${ran.join(',')}`);
  args.push(`--seed ${r.seed}`, `--profile ${r.profile}`);
  if (r.instances && r.instances !== 4) args.push(`--instances ${r.instances}`);
  return args.join(' ');
}

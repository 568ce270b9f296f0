// Injection, observed: the hostile strings a scenario sends (quotes, comment markers) looked for in the SQL text
// the candidate's code sent. A probe that arrives as a bind parameter never appears in the text; one escaped
// properly (escapeLiteral, format('%L')) survives as one string literal, which the real PostgreSQL parser finds.
// A probe in the text that is not inside a literal — or in a text that no longer parses — was pasted into SQL.

import type { WireUnit } from '../../../harness/wire/sql-units.ts';
import { stringLiterals } from '../sql/shape.ts';
import { note, statementLine } from './format.ts';
import type { FindingList, WireFinding } from './types.ts';

/** The longest quote-free piece of a probe: what stays visible in the text however it was (not) escaped. */
export function probeFragment(probe: string): string {
  return probe
    .split(/['\\"]/)
    .map((s) => s.trim())
    .sort((a, b) => b.length - a.length)[0] ?? '';
}

export function findInjection(units: WireUnit[], probes: string[]): FindingList {
  const ran: FindingList = { count: 0, examples: [] };
  const broke: FindingList = { count: 0, examples: [] };
  const usable = probes.filter((p) => p.includes("'")).map((p) => ({ probe: p, fragment: probeFragment(p), json: JSON.stringify(p).slice(1, -1) })).filter((p) => p.fragment.length >= 5);
  if (!usable.length) return { count: 0, examples: [] };
  const judged = new Map<string, string | null>();
  for (const u of units) {
    if (u.tag === 'setup') continue;
    for (const s of u.statements) {
      let verdict = judged.get(s.sql);
      if (verdict === undefined) {
        verdict = null;
        const present = usable.filter((p) => s.sql.includes(p.fragment));
        if (present.length) {
          const literals = stringLiterals(s.sql);
          const bad = present.find((p) => !literals || !literals.some((l) => l.includes(p.probe) || l.includes(p.json)));
          if (bad) verdict = literals ? `the probe ${JSON.stringify(bad.probe)} is in the SQL text outside any string literal` : `the probe ${JSON.stringify(bad.probe)} is in the SQL text, which no longer parses as SQL`;
        }
        if (judged.size < 20_000) judged.set(s.sql, verdict);
      }
      if (!verdict) continue;
      const finding: WireFinding = { what: `caller input was pasted into SQL text: ${verdict} (use $1 parameters)`, statements: [statementLine(u, s)] };
      // A statement the probe changed and that still parsed (and ran) is the stronger evidence: quote those first.
      if (verdict.includes('outside any string literal')) note(ran, finding);
      else note(broke, finding);
    }
  }
  return { count: ran.count + broke.count, examples: [...ran.examples, ...broke.examples].slice(0, 3) };
}

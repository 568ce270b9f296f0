// The bench's section ids in the order they run: what `gauntlet bench --only` accepts, kept apart from the
// measurements so the CLI can list them without loading any of them.

export const BENCH_SECTIONS = ['full-grade', 'grade-time', 'burst-fidelity', 'driver-throughput', 'reference-load', 'containment'] as const;
export type BenchSectionId = (typeof BENCH_SECTIONS)[number];

/** Parse `a,b` into section ids; throws naming the ids when one is unknown. */
export function parseBenchSections(value: string): BenchSectionId[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(BENCH_SECTIONS as readonly string[]).includes(id));
  if (!ids.length || unknown.length) throw new Error(`${unknown.length ? `unknown section ${unknown.map((u) => `'${u}'`).join(', ')}` : 'no section named'}; sections: ${BENCH_SECTIONS.join(', ')}`);
  return [...new Set(ids)] as BenchSectionId[];
}

// `gauntlet bench --only`: section ids parsed in the bench's own order of names, duplicates dropped, and an
// unknown or empty list refused with the ids it accepts.
import { describe, expect, it } from 'vitest';
import { BENCH_SECTIONS, parseBenchSections } from './sections.ts';

describe('parseBenchSections', () => {
  it('takes comma-separated ids, spaces and repeats tolerated', () => {
    expect(parseBenchSections('burst-fidelity, driver-throughput,burst-fidelity')).toEqual(['burst-fidelity', 'driver-throughput']);
    expect(parseBenchSections(BENCH_SECTIONS.join(','))).toEqual([...BENCH_SECTIONS]);
  });

  it('refuses an unknown id or an empty list, naming the sections there are', () => {
    expect(() => parseBenchSections('burst,driver-throughput')).toThrow(/unknown section 'burst'.*sections: full-grade, grade-time, burst-fidelity/);
    expect(() => parseBenchSections(' , ')).toThrow(/no section named/);
  });
});

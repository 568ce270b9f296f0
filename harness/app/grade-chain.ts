// Grades one after another with the overlap one grade already has between its scenarios (scenario-pipeline.ts):
// the next grade begins (bundle, source reading, its first scenario's database, setup process and instances) once
// the previous grade's last workload is over and healed, beside that grade's settle, final reads, checks, teardown
// and scoring. Its first workload waits until the previous grade has wholly ended, so no workload ever runs beside
// another grade's processes or checks. Used by self-test, which grades dozens of submissions in a row.

import { grade, type GradeOptions } from './grade.ts';
import type { GradeResult } from '../../rubric/result.ts';

type GradeFn = (o: GradeOptions) => Promise<GradeResult>;

export class GradeChain {
  private previous: Promise<unknown> = Promise.resolve();

  /** `gradeFn`: grade() unless a test gives its own. */
  constructor(private readonly gradeFn: GradeFn = grade) {}

  /**
   * Starts a grade once the previous one's workloads are over (or it ended, whichever comes first) and returns it
   * (wrapped: `result` is the grade's own promise, which may still reject, e.g. with an InfraError).
   */
  async next(o: Omit<GradeOptions, 'after' | 'onWorkloadsOver'>): Promise<{ result: Promise<GradeResult> }> {
    let over!: () => void;
    const workloadsOver = new Promise<void>((resolve) => (over = resolve));
    const result = this.gradeFn({ ...o, after: this.previous, onWorkloadsOver: over });
    const ended = result.then(
      () => undefined,
      () => undefined,
    );
    this.previous = ended;
    await Promise.race([workloadsOver, ended]);
    return { result };
  }

  /** Resolves once the last grade started has ended (successfully or not). */
  async idle(): Promise<void> {
    await this.previous;
  }
}

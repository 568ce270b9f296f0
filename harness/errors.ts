// The harness's error classes: each carries a stable `code`, a message saying what went wrong and a `hint` saying
// what to do, and the exit status the CLI ends with (usage 2, infrastructure 3, internal 4). The CLI prints
// `gauntlet: <message> [<CODE>]` and the hint on stderr, and with --json puts `error: { code, message, hint }` in the
// document on stdout (bin/error-output.ts). A submission at fault is graded (its checks fail, its scenarios are
// `error`), never thrown: CONTRACT §7 says such a submission is graded, not a crash, so there is no error class for it.

/** The stable codes (README.md, "Troubleshooting"). More may be added; a code never changes meaning. */
export type ErrorCode = 'USAGE' | 'FIXTURE_INVALID' | 'INFRA_UNAVAILABLE' | 'INTERNAL';

export class GauntletError extends Error {
  /** What to do about it: always present, a generic remedy of the error's kind when the thrower gave none. */
  readonly hint: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    hint: string,
    /** The CLI's exit status when this error ends a command (CONTRACT §7). */
    readonly exitCode: 2 | 3 | 4,
  ) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }

  /** The `error` member of a --json document. */
  toJSON(): { code: ErrorCode; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Bad command line or options, or an input file gauntlet reads that is malformed. Exit 2. */
export class UsageError extends GauntletError {
  static readonly DEFAULT_HINT = 'gauntlet help <command> lists its options, with examples';
  constructor(message: string, hint?: string, code: 'USAGE' | 'FIXTURE_INVALID' = 'USAGE') {
    super(code, message, hint ?? UsageError.DEFAULT_HINT, 2);
  }
}

/** PostgreSQL (or another piece of the grading environment) could not be had. Exit 3. */
export class InfraError extends GauntletError {
  static readonly DEFAULT_HINT = 'gauntlet doctor says which PostgreSQL and Redis would be used and how to fix what is missing';
  constructor(message: string, hint?: string) {
    super('INFRA_UNAVAILABLE', message, hint ?? InfraError.DEFAULT_HINT, 3);
  }
}

/** A bug in gauntlet itself: the CLI turns anything thrown that is not a GauntletError into one. Exit 4. */
export class InternalError extends GauntletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', `${message} (this is a gauntlet bug)`, 'please report it with the command line, its stderr and the run folder', 4);
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }

  /** `err` as a GauntletError: itself when it is one, otherwise an InternalError that keeps it as `cause`. */
  static wrap(err: unknown): GauntletError {
    if (err instanceof GauntletError) return err;
    const text = err instanceof Error ? err.message : String(err);
    return new InternalError(`internal error: ${text}`, { cause: err });
  }
}

// The harness's error classes, each with a stable `code` and a message that says what to do.
// Usage errors exit 2, infrastructure errors exit 3; submission errors are graded, never thrown to the user;
// internal errors are our bugs and say so.

export class GauntletError extends Error {
  constructor(readonly code: string, message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line or options. Exit 2. */
export class UsageError extends GauntletError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint);
  }
}

/** PostgreSQL (or another piece of the grading environment) could not be had. Exit 3. */
export class InfraError extends GauntletError {
  constructor(message: string, hint?: string) {
    super('INFRA_UNAVAILABLE', message, hint);
  }
}

/** The candidate's code is at fault (does not load, create throws ...). Graded as `error`, not thrown. */
export class SubmissionError extends GauntletError {
  constructor(message: string, hint?: string) {
    super('SUBMISSION', message, hint);
  }
}

/** A bug in gauntlet itself. */
export class InternalError extends GauntletError {
  constructor(message: string) {
    super('INTERNAL', `${message} (this is a gauntlet bug; please report it with the run folder)`);
  }
}

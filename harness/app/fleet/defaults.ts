// The fleet's defaults, apart from the modules that load BullMQ (the CLI loads those only for fleet commands).

export const DEFAULT_QUEUE_NAME = 'gauntlet-grades';
/** Attempts for a job whose grade fails for the harness's own reasons (a submission's failure is a graded result, never retried). */
export const DEFAULT_ATTEMPTS = 3;
/** How long a job's lock lasts without renewal: a killed worker's job is taken up again after about this long. */
export const DEFAULT_LOCK_MS = 30_000;

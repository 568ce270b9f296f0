// Lets stdout and stderr hand every byte to the OS before the process exits. process.exit() drops whatever a
// pipe had not yet taken (a `--json` document cut at 64 KiB when read through `| jq`); a file never shows it.

type Out = NodeJS.WriteStream & { errored?: unknown };

/** Resolves once `stream` has nothing left in its buffer (every write's callback ran), or it can take no more. */
export function flushed(stream: Out, pollMs = 5): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (stream.destroyed || stream.errored || !stream.writable || stream.writableLength === 0) return resolve();
      setTimeout(check, pollMs);
    };
    check();
  });
}

/**
 * A reader that went away (`| head -c 100`) makes the next write fail with EPIPE: that ends the output, not the
 * program with a stack trace. Installed once by the CLI.
 */
export function tolerateClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/** Wait for stdout and stderr to drain (however slow the reader), then exit with `code`. */
export async function exitAfterFlush(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  return process.exit(code);
}

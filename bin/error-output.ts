// How an error that ends a command is shown: `gauntlet: <message> [<CODE>]` and the remedy on stderr, and with
// --json one document on stdout carrying `error: { code, message, hint }` (the exit status is the error's own).

import { CommanderError } from 'commander';
import { GauntletError, InternalError, UsageError } from '../harness/errors.ts';

/** Whether the command line asks for JSON on stdout (`--json` before any `--`). */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Any error that ended a command, as a GauntletError: a parse error of commander's is a usage error (its hint names
 * the command's help), anything else that is not a GauntletError is a gauntlet bug (InternalError).
 */
export function asGauntletError(err: unknown, command?: string): GauntletError {
  if (err instanceof CommanderError) {
    const help = command ? `gauntlet help ${command} lists its options, with examples` : 'gauntlet help lists the commands; gauntlet help <command> one command, with examples';
    // `gauntlet` alone prints the command list on stderr and ends as a usage error.
    if (err.code === 'commander.help') return new UsageError('a command is needed: gauntlet grade, list, doctor, init, self-test, … (listed above)', 'gauntlet help <command> shows one, with examples');
    return new UsageError(err.message.replace(/^error: /, ''), help);
  }
  return InternalError.wrap(err);
}

/** The stderr text: one line with the message and its code, the remedy indented below (and a bug's stack). */
export function errorText(err: GauntletError, paint: (line: string) => string = (line) => line): string {
  let text = paint(`gauntlet: ${err.message} [${err.code}]`) + `\n  ${err.hint}\n`;
  const cause = (err as { cause?: unknown }).cause;
  if (err instanceof InternalError && cause instanceof Error && cause.stack) text += `${cause.stack}\n`;
  return text;
}

/** The --json document of a command that ended with `err`: the CONTRACT §7 header, the error, the exit status. */
export function errorDocument(err: GauntletError): { schemaVersion: 1; tool: 'gauntlet'; error: { code: string; message: string; hint: string }; exitCode: number } {
  return { schemaVersion: 1, tool: 'gauntlet', error: err.toJSON(), exitCode: err.exitCode };
}

// The command line: parses argv, calls the harness API, prints, and maps results to exit codes (CONTRACT §7:
// 0 verdict pass, 1 fail or reject or below --min-score, 2 usage error, 3 no infrastructure; 5 inconclusive;
// 4, outside the contract, only for a gauntlet bug). Only this file exits, and only it installs the signal handlers
// that clean up and exit (grade() used as a library leaves the host's alone). Progress goes to stderr; with --json,
// stdout carries one document alone: the result, or `error: { code, message, hint }` when an error ended the command.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';
import { installSignalHandlers, interrupted, runCleanups } from '../harness/cleanup.ts';
import type { Range } from '../harness/app/defaults.ts';
import { registerCommands } from './commands.ts';
import { registerFleetCommands } from './fleet-commands.ts';
import { asGauntletError, errorDocument, errorText, wantsJson } from './error-output.ts';
import { exitAfterFlush, tolerateClosedPipes } from '../harness/flush-stdio.ts';

function intArg(name: string, { min, max }: Range) {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}`);
    return n;
  };
}

const program = new Command('gauntlet')
  .description('Grades backend solutions on race conditions, idempotency and resilience: several instances against real PostgreSQL and Redis, under load and injected faults, with every call recorded and checked.')
  .version('0.1.0')
  .exitOverride()
  // Parse errors are printed by main() like every other error (message, code, remedy; JSON with --json).
  .configureOutput({ outputError: () => {} });

registerCommands(program, { intArg, Option });
registerFleetCommands(program, { intArg, Option });
tolerateClosedPipes();
installSignalHandlers();

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Interrupted: what fails while the run unwinds is a consequence, not news; the signal handler exits 130/143.
    if (interrupted()) return 130;
    // help and version exit 0; every parse problem is a usage error (exit 2).
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    const args = process.argv.slice(2);
    const command = args.find((a) => program.commands.some((c) => c.name() === a));
    const error = asGauntletError(err, command);
    process.stderr.write(errorText(error, (line) => chalk.red(line)));
    if (wantsJson(args)) process.stdout.write(JSON.stringify(errorDocument(error), null, 2) + '\n');
    return error.exitCode;
  }
}

const code = await main();
await runCleanups();
// After Ctrl-C / SIGTERM the signal handler (harness/cleanup.ts) finishes the cleanup, marks the run folder
// and exits 128 + the signal number; exiting here first would report the unwinding run's status instead.
// Otherwise stdout and stderr drain first: a document read through a pipe arrives whole, whatever the exit code.
if (!interrupted()) await exitAfterFlush(code);

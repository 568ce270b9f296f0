// The command line: parses argv, calls the harness API, prints, and maps results to exit codes (CONTRACT §7:
// 0 verdict pass, 1 fail or reject or below --min-score, 2 usage error, 3 no infrastructure; 5 inconclusive;
// 4, outside the contract, only for a gauntlet bug). Only this file exits. Progress goes to stderr; with --json, stdout carries the document alone.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';
import { GauntletError, InfraError, UsageError } from '../harness/errors.ts';
import { interrupted, runCleanups } from '../harness/cleanup.ts';
import { registerCommands } from './commands.ts';
import { exitAfterFlush, tolerateClosedPipes } from '../harness/flush-stdio.ts';

function intArg(name: string, min: number, max: number) {
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
  .showHelpAfterError('(run gauntlet help <command> for examples)')
  .exitOverride();

registerCommands(program, { intArg, Option });
tolerateClosedPipes();

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Interrupted: what fails while the run unwinds is a consequence, not news; the signal handler exits 130/143.
    if (interrupted()) return 130;
    if (err instanceof CommanderError) {
      // help and version exit 0; every parse problem is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof GauntletError) {
      process.stderr.write(chalk.red(`gauntlet: ${err.message}\n`) + (err.hint ? `  ${err.hint}\n` : ''));
      return err instanceof UsageError ? 2 : err instanceof InfraError ? 3 : 1;
    }
    process.stderr.write(chalk.red(`gauntlet: internal error: ${(err as Error).stack ?? err}\n`) + 'This is a gauntlet bug; please report it with the run folder.\n');
    return 4;
  }
}

const code = await main();
await runCleanups();
// After Ctrl-C / SIGTERM the signal handler (harness/cleanup.ts) finishes the cleanup, marks the run folder
// and exits 128 + the signal number; exiting here first would report the unwinding run's status instead.
// Otherwise stdout and stderr drain first: a document read through a pipe arrives whole, whatever the exit code.
if (!interrupted()) await exitAfterFlush(code);

// Progress on stderr while a grade runs: a spinner line with the scenario, its step and the elapsed time on a
// terminal; plain lines (one per scenario start and end, and notices such as a wait) when stderr is not a terminal (CI logs).

import chalk from 'chalk';
import type { ProgressEvent } from '../grade.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): { onProgress(e: ProgressEvent): void; stop(): void } {
  const tty = !!stream.isTTY && !quiet;
  let label = '';
  let step = '';
  let started = Date.now();
  let frame = 0;
  let timer: NodeJS.Timeout | null = null;
  const draw = () => {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[2K${chalk.cyan(FRAMES[frame++ % FRAMES.length])} ${label} ${chalk.dim(`${step} · ${secs} s`)}`);
  };
  const clear = () => {
    if (tty) stream.write('\r\x1b[2K');
  };
  return {
    onProgress(e) {
      // What weakens the sandbox is said even with --quiet.
      if (quiet && !(e.kind === 'infra' && e.warning)) return;
      if (e.kind === 'infra') {
        clear();
        stream.write(e.kind === 'infra' && e.warning ? chalk.yellow(`gauntlet: ${e.message}\n`) : chalk.dim(`gauntlet: ${e.message}\n`));
      } else if (e.kind === 'scenario-start') {
        label = `[${e.index}/${e.total}] ${e.challenge} / ${e.scenario}`;
        step = 'starting';
        started = Date.now();
        if (tty) {
          timer ??= setInterval(draw, 100);
          draw();
        } else stream.write(`${label} …\n`);
      } else if (e.kind === 'scenario-progress') {
        step = e.message;
        // A wait the user should know of: a line of its own in a log (a terminal shows it as the step).
        if (e.notice && !tty) stream.write(chalk.dim(`${label}: ${e.message}\n`));
      } else if (e.kind === 'scenario-end') {
        clear();
        const r = e.result;
        const failed = r.checks.filter((c) => c.passed !== true).map((c) => c.id);
        const status = r.skipped ? chalk.dim('skipped') : r.status === 'passed' ? chalk.green('passed') : chalk.red(r.status + (failed.length ? ` (${failed.join(', ')})` : ''));
        stream.write(`${label} ${status} ${chalk.dim(`${((r.durationMs ?? 0) / 1000).toFixed(1)} s`)}\n`);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      clear();
    },
  };
}

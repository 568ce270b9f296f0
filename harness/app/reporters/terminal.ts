// The human summary printed after a grade: each scenario, each check ✓/✗ with its one-line reason and a
// counterexample excerpt, key metrics, red flags, major concerns, the score by section and how to reproduce the run.

import { libraryNotes } from './library-notes.ts';
import { reproduceCommand } from './reproduce.ts';
import chalk from 'chalk';
import type { ScenarioResult } from '../../types.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { challenges as registry } from '../../../challenges/index.ts';
import { sectionTotals } from '../../../rubric/score.ts';
import { busyTimingReason, slowDeadlineText } from '../../machine-watch.ts';

const mark = (passed: boolean | null) => (passed === true ? chalk.green('✓') : passed === false ? chalk.red('✗') : chalk.yellow('?'));

function excerpt(value: unknown, max = 300): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text.length > max ? text.slice(0, max) + '…' : text;
}

function metricsLine(s: ScenarioResult): string {
  const m = s.metrics;
  const parts = [`${m.operations} ops`, `${m.ok} ok`, `${m.fail} fail`, `${m.indeterminate} indeterminate`, `p50 ${m.p50Ms} ms`, `p99 ${m.p99Ms} ms`, `${m.throughputPerS}/s`, `peak in flight ${m.maxInFlight}`];
  if (typeof m.slowCalls === 'number' && m.slowCalls > 0) parts.push(`${m.slowCalls} answered after ${slowDeadlineText(m)} (slowest ${m.maxLatencyMs} ms${busyTimingReason(m) ? '; not scored, the machine was busy' : ''})`);
  else if (typeof m.slowCallsAfterAnswerDeadline === 'number' && m.slowCallsAfterAnswerDeadline > 0) parts.push(`${m.slowCallsAfterAnswerDeadline} answered after ${m.answerDeadlineMs} ms, none after ${slowDeadlineText(m)}`);
  if (m.releaseSkewMs !== undefined) parts.push(`release skew ${m.releaseSkewMs} ms`);
  if (m.loadThroughputPerS !== undefined) parts.push(`load ${m.loadThroughputPerS} req/s`);
  if (m.referenceThroughputPerS) parts.push(`reference ${m.referenceThroughputPerS} req/s (ratio ${m.throughputRatio}${m.referenceMeasured && m.referenceMeasured !== 'now' ? `; measured ${m.referenceMeasured}` : ''})`);
  return parts.join(' · ');
}

/** The one load failure every scenario of a challenge stopped at, or null when any scenario got further. */
export function sameLoadFailure(scenarios: ScenarioResult[]): string | null {
  if (!scenarios.length) return null;
  const messages = scenarios.map((s) => (s.status === 'error' ? s.checks.find((c) => c.id === 'loads' && c.passed === false)?.message : undefined));
  if (messages.some((m) => m === undefined)) return null;
  const first = messages[0]!.split('\n')[0];
  return messages.every((m) => m!.split('\n')[0] === first) ? first : null;
}

/** What to do first, from where the module stopped. */
function firstStep(message: string, file?: string): string {
  const where = file ? ` in ${file}` : '';
  if (/not implemented/i.test(message)) return `implement setup() (your schema) and create() (your service)${where}, then grade again with --profile quick; the README next to it says what each method must do.`;
  if (/gauntlet's sandbox/.test(message)) return `the message above names what the sandbox refused${where} and the ways around it (docs/candidates.md, "What the sandbox cannot run").`;
  if (/does not compile|does not load/.test(message)) return `fix the module so it loads${where} (the message above names the line), then grade again.`;
  if (/setup\(ctx\)/.test(message)) return `make setup(ctx) succeed${where}: it runs once per scenario on an empty database (create your tables there); its error is above and in the instance log under the run folder.`;
  if (/create\(ctx\)|without /.test(message)) return `make create(ctx) resolve to a service with every required method${where}.`;
  return `read the instance log under the run folder for the whole error${where}.`;
}

export interface TerminalOptions {
  /** Add "why it matters" and a hint for each failed check (practice runs). */
  teach?: boolean;
}

export function renderTerminal(r: GradeResult, opts: TerminalOptions = {}): string {
  const out: string[] = [];
  out.push(chalk.bold(`gauntlet · ${r.submission}`));
  out.push(chalk.dim(`profile ${r.profile} · seed ${r.seed} · ${r.instances ?? '?'} instances${r.infrastructure ? ` · ${r.infrastructure.postgres} · ${r.infrastructure.redis}` : ''}`));
  for (const ch of r.challenges) {
    out.push('');
    const status = ch.status === 'passed' ? chalk.green(ch.status) : ch.status === 'not-attempted' ? chalk.dim(ch.status) : ch.status === 'inconclusive' ? chalk.yellow(ch.status) : chalk.red(ch.status);
    out.push(`${chalk.bold(ch.id)}  ${status}${ch.file ? chalk.dim(`  ${ch.file}`) : ''}`);
    const info = registry.find((c) => c.id === ch.id);
    const same = sameLoadFailure(ch.scenarios);
    if (same) {
      // Nothing ran: one message for the challenge, not one stack trace per scenario (a first grade of a stub).
      out.push(chalk.red(`  every scenario stopped at the same place: ${same}`));
      out.push(chalk.dim(`  (${ch.scenarios.map((s) => s.id).join(', ')})`));
      out.push(chalk.cyan(`  start here: ${firstStep(same, ch.file)}`));
      continue;
    }
    for (const s of ch.scenarios) {
      const st = s.skipped ? chalk.dim('skipped') : s.status === 'passed' ? chalk.green('passed') : s.status === 'inconclusive' ? chalk.yellow('inconclusive') : chalk.red(s.status);
      out.push(`  ${chalk.bold(s.id)}  ${st}${s.durationMs !== undefined ? chalk.dim(`  ${(s.durationMs / 1000).toFixed(1)} s`) : ''}`);
      if (s.skipped) out.push(chalk.dim(`    ${s.skipped}`));
      if (s.error) out.push(chalk.red(`    ${s.error.split('\n').slice(0, 6).join('\n    ')}`));
      if (s.inconclusive) out.push(chalk.yellow(`    ${s.inconclusive}`));
      for (const c of s.checks) {
        out.push(`    ${mark(c.passed)} ${c.id.padEnd(22)} ${c.passed ? chalk.dim(c.message) : c.message}`);
        if (c.passed === false && c.counterexample !== undefined) out.push(chalk.dim(`        counterexample: ${excerpt(c.counterexample)}`));
        for (const note of libraryNotes(c)) out.push(chalk.cyan(`        library: ${note}`));
        if (c.passed === false && opts.teach) {
          const ci = info?.checks.find((x) => x.id === c.id);
          if (ci) out.push(chalk.cyan(`        why it matters: ${ci.why}\n        hint: ${ci.hint}`));
        }
      }
      if (!s.skipped && s.metrics.operations) out.push(chalk.dim(`    ${metricsLine(s)}`));
    }
  }
  out.push('');
  if (r.redFlags.length) {
    out.push(chalk.red.bold('Red flags (immediate rejection):'));
    for (const f of r.redFlags) out.push(chalk.red(`  ✗ ${f.id} (${f.check}): ${f.evidence}`));
    out.push('');
  }
  if (r.concerns?.length) {
    out.push(chalk.yellow.bold('Major concerns (warnings, with evidence):'));
    for (const c of r.concerns) {
      out.push(chalk.yellow(`  ! ${c.title}`));
      // An evidence entry may carry the call and the statements that show it, one per line.
      for (const e of c.evidence.slice(0, 3)) for (const line of e.split('\n')) out.push(chalk.dim(`      ${line}`));
    }
    out.push('');
  }
  const attempted = r.challenges.filter((c) => c.status !== 'not-attempted');
  if (attempted.length && attempted.every((c) => sameLoadFailure(c.scenarios))) out.push(chalk.yellow('nothing to judge: no module loaded, so no automatic points (code quality, safety and design are judged on code that ran)'));
  const sections = sectionTotals(r.rubric);
  if (sections.length) out.push(chalk.dim('score by section: ') + sections.map((s) => `${s.section} ${s.awarded}/${s.points}${s.pending ? chalk.dim(` (${s.pending} manual pending)`) : ''}`).join(chalk.dim(' · ')));
  const verdict = r.verdict === 'pass' ? chalk.green.bold('PASS') : r.verdict === 'reject' ? chalk.red.bold('REJECT') : r.verdict === 'inconclusive' ? chalk.yellow.bold('INCONCLUSIVE') : chalk.red.bold('FAIL');
  out.push(`${verdict}  automated ${r.score.automated}/${r.score.automatedMax}` + (r.score.manual === null ? chalk.dim(` · manual items (${r.score.manualMax} points) await an interviewer: gauntlet score`) : ` · manual ${r.score.manual}/${r.score.manualMax} · total ${r.score.total}/100`));
  if (r.runDir) out.push(chalk.dim(`run folder: ${r.runDir}`));
  for (const [format, file] of Object.entries(r.reports ?? {})) out.push(chalk.dim(`${format} report: ${file}`));
  out.push(chalk.dim(`reproduce: ${reproduceCommand(r)}`));
  return out.join('\n');
}

// Interactive scoring of the manual rubric items (`gauntlet score <run>` on a terminal): one item at a time, with
// its guide (what 0, 3 and 5 look like), the run's evidence for it and follow-up questions to ask, then a score
// and an optional note. The prompts come from @inquirer/prompts; the flow takes any Prompter (tests pass fakes).

import chalk from 'chalk';
import type { GradeResult } from '../rubric/result.ts';
import { RUBRIC } from '../rubric/rubric.ts';
import { MANUAL_SCALE, type ManualScoring } from '../rubric/manual.ts';
import { evidenceForItem } from '../rubric/item-evidence.ts';

export interface Prompter {
  /** A score 0–5, or null to leave the item unscored. */
  score(message: string, current: number | undefined): Promise<number | null>;
  note(message: string, current: string | undefined): Promise<string>;
  confirm(message: string): Promise<boolean>;
}

export interface ScoringSession {
  result: GradeResult;
  prompter: Prompter;
  print(text: string): void;
  interviewer?: string;
}

/** Walks every manual item; returns the new scoring, or null when the interviewer chose not to save. */
export async function scoreInteractively({ result, prompter, print, interviewer }: ScoringSession): Promise<ManualScoring | null> {
  const items = RUBRIC.filter((i) => i.manual);
  const scores: ManualScoring['scores'] = { ...(result.manual?.scores ?? {}) };
  print(chalk.bold(`Scoring ${items.length} manual items of run ${result.runId} (${result.submission}).`) + chalk.dim(' 0–5 each, on the guide; choose "skip" to leave one unscored.'));
  for (const [n, item] of items.entries()) {
    const line = result.rubric.find((l) => l.id === item.id && l.source === 'manual');
    const points = line?.points ?? item.manual!;
    print('');
    print(chalk.bold(`[${n + 1}/${items.length}] ${item.section} · ${item.item}`) + chalk.dim(` (worth ${points} point${points === 1 ? '' : 's'}${item.auto ? ', plus its measured part' : ''})`));
    print(`  ${item.about}`);
    for (const k of [0, 3, 5] as const) print(`  ${chalk.cyan(String(k))}  ${item.guide![k]}`);
    const evidence = evidenceForItem(item.id, result);
    if (evidence.length) {
      print(chalk.dim('  evidence from the run:'));
      for (const e of evidence) print(chalk.dim(`    · ${e}`));
    }
    print(chalk.dim('  ask:'));
    item.questions.forEach((q, i) => print(chalk.dim(`    ${i + 1}. ${q}`)));
    const current = scores[item.id];
    const score = await prompter.score(`${item.item}: score 0–${MANUAL_SCALE}`, current?.score);
    if (score === null) {
      delete scores[item.id];
      continue;
    }
    const note = (await prompter.note('note (optional, shown in the report)', current?.note)).trim();
    scores[item.id] = { score, ...(note ? { note } : {}) };
  }
  const scored = Object.keys(scores).length;
  print('');
  if (!(await prompter.confirm(`Save ${scored} manual score${scored === 1 ? '' : 's'} to run ${result.runId}?`))) return null;
  const who = interviewer ?? result.manual?.interviewer;
  return { ...(who ? { interviewer: who } : {}), scoredAt: new Date().toISOString(), scores, ...(result.manual?.overrides ? { overrides: result.manual.overrides } : {}) };
}

export interface PromptStreams {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** The real prompts (@inquirer/prompts), optionally on given streams. */
export async function inquirerPrompter(streams: PromptStreams = {}): Promise<Prompter> {
  const { select, input, confirm } = await import('@inquirer/prompts');
  const ctx = streams.input || streams.output ? ({ input: streams.input, output: streams.output } as Parameters<typeof select>[1]) : undefined;
  return {
    async score(message, current) {
      const choices = [
        ...Array.from({ length: MANUAL_SCALE + 1 }, (_, v) => ({ name: String(v), value: v as number | null })),
        { name: 'skip (leave unscored)', value: null },
      ];
      return select({ message, choices, default: current ?? null, loop: false }, ctx);
    },
    note: (message, current) => input({ message, default: current ?? '' }, ctx),
    confirm: (message) => confirm({ message, default: true }, ctx),
  };
}

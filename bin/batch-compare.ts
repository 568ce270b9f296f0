// `gauntlet compare --batch <tag>`: every run of a batch read from the results store (with the source stored beside
// it), ranked and paired by harness/app/batch/, printed for a terminal, as Markdown or as the JSON report.

import { UsageError } from '../harness/errors.ts';
import type { RunStore } from '../harness/app/store/index.ts';
import { buildBatchReport, renderBatchMarkdown, renderBatchTerminal, type BatchEntry } from '../harness/app/batch/index.ts';

/** The batch report for `tag`, rendered as asked. */
export async function batchCompareText(store: RunStore, tag: string, format: 'terminal' | 'md' | 'json', o: { threshold?: number } = {}): Promise<string> {
  const rows = await store.listRuns({ batch: tag, limit: 1_000_000 });
  if (!rows.length) throw new UsageError(`no runs of batch "${tag}" in the store ${store.location}`, 'gauntlet history --batch <tag> lists a batch; gauntlet queue status shows jobs not graded yet');
  const entries: BatchEntry[] = [];
  for (const r of rows) {
    const result = await store.getResult(r.id);
    if (!result) continue;
    entries.push({ runId: r.id, label: r.submissionPath, result, source: await store.submissionSource(r.id) });
  }
  const report = buildBatchReport(entries, { tag, threshold: o.threshold });
  if (format === 'json') return JSON.stringify(report, null, 2);
  return format === 'md' ? renderBatchMarkdown(report) : renderBatchTerminal(report);
}

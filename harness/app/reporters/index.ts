// The reporters, by name: terminal (the human summary), json (the CONTRACT §7 document), junit, md and html.
// `writeReports` writes the file formats into the run folder, each atomically (temporary file, then rename).

import fs from 'node:fs';
import path from 'node:path';
import type { GradeResult } from '../../../rubric/result.ts';
import { renderTerminal } from './terminal.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { renderHtml } from './html.ts';

export type FileReport = 'html' | 'md' | 'junit';
export const FILE_REPORTS: FileReport[] = ['html', 'md', 'junit'];
export type ReportFormat = FileReport | 'terminal' | 'json';
export const REPORT_FORMATS: ReportFormat[] = ['terminal', 'json', ...FILE_REPORTS];

export const REPORT_FILES: Record<FileReport, string> = { html: 'report.html', md: 'report.md', junit: 'junit.xml' };

export const reporters: Record<ReportFormat, (r: GradeResult) => string> = {
  terminal: (r) => renderTerminal(r) + '\n',
  json: (r) => JSON.stringify(r, null, 2) + '\n',
  junit: renderJunit,
  md: renderMarkdown,
  html: (r) => renderHtml(r),
};

export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Write each format into `dir` (the run folder by default); returns where each went. */
export function writeReports(r: GradeResult, formats: FileReport[], dir = r.runDir ?? '.'): Partial<Record<FileReport, string>> {
  const written: Partial<Record<FileReport, string>> = {};
  for (const f of [...new Set(formats)]) {
    const file = path.resolve(dir, REPORT_FILES[f]);
    writeAtomic(file, reporters[f](r));
    written[f] = file;
  }
  return written;
}

/** Parse `--report html,md` (or repeated flags) into formats; throws on an unknown one. */
export function parseReportList(values: string | string[] | undefined): FileReport[] {
  const list = (Array.isArray(values) ? values : values ? [values] : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const bad = list.filter((v) => !FILE_REPORTS.includes(v as FileReport));
  if (bad.length) throw new Error(`unknown report format ${bad.join(', ')}: use ${FILE_REPORTS.join(', ')}`);
  return [...new Set(list)] as FileReport[];
}

// Test support for the detectors: a scan over small sources held in memory (no files, no database), and a
// detector run over every file of it.

import ts from 'typescript';
import type TS from 'typescript';
import { type Scan, createScan } from './program.ts';

export const SUBMISSION = '/submission';

/** A scan of `{ 'file.ts': 'source' }`; a bare string is one file, `service.ts`. */
export function scanOf(files: Record<string, string> | string): Scan {
  const map = typeof files === 'string' ? { 'service.ts': files } : files;
  return createScan(ts, SUBMISSION, Object.entries(map).map(([file, text]) => ({ file, text })));
}

/** Run a detector over every file of the sources. */
export function detect<T>(find: (scan: Scan, sf: TS.SourceFile) => T[], files: Record<string, string> | string): T[] {
  const scan = scanOf(files);
  return scan.files.flatMap((sf) => find(scan, sf));
}

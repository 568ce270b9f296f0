// The static read of a submission: its code parsed once (program.ts) and handed to one small detector per
// concern. Heuristics with file and line, so a reviewer can check each one; never a red flag on their own.

import type TS from 'typescript';
import type { SourceRef, StaticEvidence } from '../types.ts';
import { displayPath } from '../sources.ts';
import { type Scan, loadScan, push } from './program.ts';
import { findHardcoded } from './hardcoded.ts';
import { findInterpolatedSql } from './sql-from-input.ts';
import { findPoolTransactions } from './pool-transactions.ts';
import { findSwallowedErrors } from './swallowed-errors.ts';
import { findRetries } from './retries.ts';
import { findStrictIsolation } from './isolation.ts';
import { findUsage } from './logging.ts';
import { scanTests } from './tests.ts';

export interface StaticInput {
  submission: string;
  code: string[];
  tests: string[];
}

const MAX_REFS = 20;
const MAX_RETRIES = 10;

/** Run every detector over every code file; `ts` is the TypeScript module. A detector that throws on a file loses only that file. */
export function scanSources(ts: typeof TS, input: StaticInput): Omit<StaticEvidence, 'typescript'> {
  const scan = loadScan(ts, input.submission, input.code);
  const out: Omit<StaticEvidence, 'typescript'> = {
    files: [...input.code, ...input.tests].map((f) => displayPath(input.submission, f)),
    linesOfCode: 0,
    hardcoded: [],
    interpolatedSql: [],
    poolTransactions: [],
    ctxLogCalls: 0,
    consoleCalls: 0,
    retries: [],
    swallowedErrors: [],
    strictIsolation: [],
    usesRedis: false,
    usesPostgres: false,
    tests: scanTests(input.tests, input.submission),
  };
  for (const sf of scan.files) {
    out.linesOfCode += sf.text.split('\n').filter((l) => l.trim() && !/^\s*(\/\/|\*|\/\*)/.test(l)).length;
    const each = <T extends SourceRef>(list: T[], find: (scan: Scan, sf: TS.SourceFile) => T[], max = MAX_REFS) => {
      for (const item of safely(() => find(scan, sf), [])) push(list, item, max);
    };
    each(out.hardcoded, findHardcoded);
    each(out.interpolatedSql, findInterpolatedSql);
    each(out.poolTransactions, findPoolTransactions);
    each(out.swallowedErrors, findSwallowedErrors);
    each(out.retries, findRetries, MAX_RETRIES);
    each(out.strictIsolation, findStrictIsolation);
    const usage = safely(() => findUsage(scan, sf), null);
    if (usage) {
      out.ctxLogCalls += usage.ctxLogCalls;
      out.consoleCalls += usage.consoleCalls;
      out.usesRedis ||= usage.usesRedis;
      out.usesPostgres ||= usage.usesPostgres;
    }
  }
  return out;
}

function safely<T>(run: () => T, fallback: T): T {
  try {
    return run();
  } catch {
    return fallback;
  }
}

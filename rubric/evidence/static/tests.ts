// The candidate's own tests: how many files exercise concurrency (Promise.all, parallel calls, races) and how many
// exercise failures (rejections, thrown errors, retries, timeouts, the challenge's error codes).

import fs from 'node:fs';
import type { TestEvidence } from '../types.ts';
import { displayPath } from '../sources.ts';

const CONCURRENCY = /Promise\.(all|allSettled|race|any)\s*\(|concurren|parallel|\brac(e|es|ing)\b/i;
const FAILURE = /rejects|toThrow|throws|catch\s*\(|retry|timeout|kill|fault|SEAT_TAKEN|HOLD_EXPIRED|duplicate/i;

export function scanTests(tests: string[], submission: string): TestEvidence {
  let concurrencyTests = 0;
  let failureTests = 0;
  for (const f of tests) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (CONCURRENCY.test(text)) concurrencyTests++;
    if (FAILURE.test(text)) failureTests++;
  }
  return { files: tests.map((t) => displayPath(submission, t)), concurrencyTests, failureTests };
}

// Reads the submission's source in a child process at the lowest CPU priority (nice 19) while the scenarios run,
// so the type check (a second or two of CPU) neither delays the grade nor competes with the candidate's
// instances or the harness's measurements. Falls back to reading in-process if the child fails.

import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../../harness/cleanup.ts';
import type { SubmissionEvidence } from './types.ts';
import { gatherEvidence } from './index.ts';

const ENTRY = fileURLToPath(new URL('./evidence-main.ts', import.meta.url));
const TIMEOUT_MS = 120_000;

/** Start reading now; the promise resolves with the evidence (never rejects). */
export function gatherEvidenceInBackground(submission: string, modules: string[]): Promise<SubmissionEvidence> {
  if (!modules.length) return gatherEvidence(submission, modules);
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm');
  } catch {
    return gatherEvidence(submission, modules);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, ENTRY, JSON.stringify({ submission, modules })], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    try {
      if (child.pid) os.setPriority(child.pid, 19);
    } catch {
      // not permitted: it still runs, at normal priority
    }
    const unregister = onCleanup(() => {
      child.kill('SIGKILL');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume();
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unregister();
      if (ok) {
        try {
          resolve(JSON.parse(out) as SubmissionEvidence);
          return;
        } catch {
          // fall through to reading in-process
        }
      }
      resolve(gatherEvidence(submission, modules));
    };
    child.on('error', () => done(false));
    // 'close', not 'exit': the child's stdout may still hold the end of the document when it exits.
    child.on('close', (code) => done(code === 0));
  });
}

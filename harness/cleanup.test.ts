// grade() used as a library leaves the host program's signal handling alone: registering cleanup work (and a whole
// grade) adds no SIGINT/SIGTERM/SIGHUP listener; only installSignalHandlers (the CLI's) does. interruptAndClean does
// the cleanup a host may ask for from its own handler, without exiting. No database: the graded folder has no modules.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installSignalHandlers, interruptAndClean, interrupted, markRunInterrupted, onCleanup, onInterrupt } from './cleanup.ts';
import { grade } from './app/grade.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listeners = () => SIGNALS.map((s) => process.listenerCount(s));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-cleanup-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('signal handling belongs to the CLI, not to the library', () => {
  it('registering cleanup work installs no signal handler', () => {
    const before = listeners();
    const undo = [onCleanup(() => undefined), onInterrupt(() => undefined), markRunInterrupted(tmp, () => [])];
    expect(listeners()).toEqual(before);
    for (const u of undo) u();
  });

  it('a whole grade() leaves the host process with the signal listeners it had', async () => {
    const submission = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const before = listeners();
    const result = await grade({ submission, outDir: path.join(tmp, 'runs'), seed: 1, contain: false, sourceEvidence: false });
    expect(result.challenges.every((c) => c.status === 'not-attempted')).toBe(true);
    expect(listeners()).toEqual(before);
  });

  it('installSignalHandlers adds one listener per signal and its uninstall removes them', () => {
    const before = listeners();
    const uninstall = installSignalHandlers();
    expect(listeners()).toEqual(before.map((n) => n + 1));
    uninstall();
    expect(listeners()).toEqual(before);
  });

  it('interruptAndClean runs the cleanup steps (newest first), then the interrupt hooks, and does not exit', async () => {
    const order: string[] = [];
    onCleanup(() => void order.push('first registered'));
    onCleanup(async () => void order.push('second registered'));
    onInterrupt((signal) => void order.push(`hook ${signal}`));
    const runDir = fs.mkdtempSync(path.join(tmp, 'run-'));
    markRunInterrupted(runDir, () => [{ scenario: 'last-seat' }]);
    expect(interrupted()).toBeNull();
    await interruptAndClean('SIGTERM');
    expect(order).toEqual(['second registered', 'first registered', 'hook SIGTERM']);
    expect(interrupted()).toBe('SIGTERM');
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'interrupted.json'), 'utf8'))).toMatchObject({ interrupted: true, signal: 'SIGTERM', completedScenarios: [{ scenario: 'last-seat' }] });
  });
});

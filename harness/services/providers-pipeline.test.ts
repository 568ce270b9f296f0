// The channel providers from inside a contained instance (its own network namespace, the mock services reached
// through the bridge, as in a grade), module and HTTP mode: setup and every instance reach email, sms and push by
// `ctx.services` and by `EMAIL_URL` / `SMS_URL` / `PUSH_URL` (HTTP mode: by the variables alone), each call
// attributed to the instance that made it, a provider's 429 and its Retry-After getting through the bridge.
// Needs PostgreSQL; skipped where namespaces cannot be had.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireInfra, type Infra } from '../infra/index.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { containment } from '../instances/netns.ts';
import { instanceUser, type LaunchSpec } from '../instances/instance-process.ts';
import { runScenario } from '../scenario-runner.ts';
import type { ScenarioDef } from '../scenario.ts';
import type { LedgerSnapshot } from './types.ts';
import { seatReservation } from '../../challenges/seat-reservation/index.ts';
import { reserve } from '../../challenges/seat-reservation/operations.ts';
import { pass } from '../checkers/verdict.ts';

const moduleFixture = fileURLToPath(new URL('./fixtures/provider-seat/seat-reservation.ts', import.meta.url));
const httpFixture = fileURLToPath(new URL('./fixtures/provider-seat-http/', import.meta.url));
let infra: Infra;
let runDir: string;

beforeAll(async () => {
  infra = await acquireInfra();
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-providers-'));
  fs.chmodSync(runDir, 0o755);
});
afterAll(async () => {
  await infra?.close();
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
});

let seen: LedgerSnapshot | undefined;

const scenario: ScenarioDef = {
  id: 'providers-contained',
  description: 'each seat sends one message through a channel provider, sms rate-limited',
  params: { quick: { seats: 9 }, standard: { seats: 9 }, thorough: { seats: 9 } },
  data: (_rng, params) => ({ seats: Array.from({ length: params.seats }, (_, i) => `s${i}`) }),
  services: () => ({ providers: { rateLimits: { sms: { perSecond: 10, burst: 1 } } }, settle: { quietMs: 200, maxMs: 5000 } }),
  async run(ctx) {
    const seats = ctx.data.seats as string[];
    await Promise.all(seats.map((seat, i) => ctx.client.call(reserve(`u${i}`, i % ctx.cluster.size, seat, `u${i}`, 'work'))));
  },
  finalReads: async () => ({}),
  checkers: [
    {
      id: 'ledger-seen',
      check(input) {
        seen = input.ledger;
        return pass('ledger-seen', 'kept for the test');
      },
    },
  ],
};

const launches: Record<string, () => Promise<LaunchSpec>> = {
  async module() {
    const bundle = path.join(runDir, 'instance.bundle.mjs');
    const built = await bundleInstance(moduleFixture, seatReservation.routesModule, bundle);
    expect(built.ok).toBe(true);
    return { kind: 'module', bundle, sandbox: true, maxHeapMb: 256 };
  },
  async http() {
    return { kind: 'http', start: 'node server.mjs', setup: 'node server.mjs setup', cwd: httpFixture, hide: [runDir] };
  },
};

describe('channel providers from a contained instance', () => {
  for (const mode of Object.keys(launches)) it(`are reached through the bridge (${mode} mode)`, async (ctx) => {
    const contained = containment(await instanceUser());
    if (contained.network !== 'contained') return ctx.skip();
    seen = undefined;
    const result = await runScenario({
      infra,
      challenge: { ...seatReservation, scenarios: [scenario] },
      scenario,
      launch: await launches[mode](),
      containment: contained,
      runDir: path.join(runDir, mode),
      seed: 7,
      profile: 'quick',
      instances: 3,
      keep: false,
      callTimeoutMs: 15_000,
      callHardLimitMs: 60_000,
      startTimeoutMs: 15_000,
      settleMs: 100,
      scenarioTimeoutMs: 60_000,
      progress: () => {},
    });
    expect(result.error).toBeUndefined();
    expect(result.checks.map((c) => [c.id, c.passed])).toEqual([
      ['loads', true],
      ['ledger-seen', true],
      ['no-crash', true],
    ]);
    expect(result.metrics.ok).toBe(9);

    const ledger = seen!;
    // setup (-1) reached every provider; each seat's message went out from the instance its reservation was sent to
    expect(ledger.messages.filter((m) => m.instance === -1).map((m) => m.channel).sort()).toEqual(['email', 'push', 'sms']);
    const bySeat = ledger.messages.filter((m) => m.template === 'reserved');
    expect(bySeat).toHaveLength(9);
    for (const m of bySeat) {
      const i = Number((m.data as { seatId: string }).seatId.slice(1));
      expect([m.service, m.channel, m.instance, m.key]).toEqual([['email', 'sms', 'push'][i % 3], ['email', 'sms', 'push'][i % 3], i % 3, `seat:s${i}`]);
    }
    // the sms bucket (one at a time) turned some sends away with a Retry-After that the fixture honoured
    const limited = ledger.attempts.filter((a) => a.service === 'sms' && a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((a) => a.code === 'rate_limited' && a.fault === 'none' && (a.retryAfterMs ?? 0) >= 1)).toBe(true);
  }, 120_000);
});

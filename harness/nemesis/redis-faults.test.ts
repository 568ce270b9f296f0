// Redis faults as the nemesis drives them: each applied to the scenario's Redis proxy and recorded as a window;
// heals idempotent; nothing at all without a Redis proxy; `inUse` only once the submission sent commands of its own.
// (The faults' effect on real connections is tested against Redis in harness/wire/redis-proxy.test.ts.)

import { describe, expect, it } from 'vitest';
import { createRedisFaults, REDIS_FAULT } from './redis-faults.ts';
import { FaultTimeline } from './timeline.ts';
import type { RedisProxy } from '../wire/redis-proxy.ts';

function fakeProxy() {
  const calls: string[] = [];
  const proxy = {
    resetAll: () => (calls.push('resetAll'), 3),
    setLatency: (ms: number, jitter?: number) => void calls.push(`setLatency ${ms} ${jitter}`),
    clearLatency: () => void calls.push('clearLatency'),
    blackhole: (on: boolean) => (calls.push(`blackhole ${on}`), on ? 0 : 2),
    refuse: (on: boolean) => (calls.push(`refuse ${on}`), on ? 4 : 0),
  } as unknown as RedisProxy;
  return { proxy, calls };
}

describe('Redis faults', () => {
  it('reset, latency and blackhole reach the proxy and are recorded as windows; heals are idempotent', async () => {
    let now = 1000;
    const timeline = new FaultTimeline(() => now);
    const { proxy, calls } = fakeProxy();
    let used = false;
    const faults = createRedisFaults({ proxy, used: () => used, timeline, nowUs: () => now, rng: { next: () => 0.5 } });
    expect(faults.inUse()).toBe(false);
    used = true;
    expect(faults.inUse()).toBe(true);

    await faults.reset();
    const healLatency = faults.latency(80, 10);
    now += 5000;
    await healLatency();
    await healLatency();
    const healHole = faults.blackhole();
    now += 3000;
    await healHole();
    await healHole();
    expect(calls).toEqual(['resetAll', 'setLatency 80 10', 'clearLatency', 'blackhole true', 'blackhole false']);
    expect(timeline.windows.map((w) => w.fault)).toEqual([REDIS_FAULT.reset, REDIS_FAULT.latency, REDIS_FAULT.blackhole]);
    expect(timeline.windows.every((w) => Number.isFinite(w.endUs) && w.endUs > w.startUs)).toBe(true);
    expect(timeline.windows[0].detail).toEqual({ connections: 3 });
    expect(timeline.windows[2].detail).toEqual({ connectionsReset: 2 });
  });

  it('down refuses until healed, is one window with the connections it reset, and healAll ends it', async () => {
    let now = 10;
    const timeline = new FaultTimeline(() => now);
    const { proxy, calls } = fakeProxy();
    const faults = createRedisFaults({ proxy, used: () => false, timeline, nowUs: () => now, rng: { next: () => 0 } });
    const heal = faults.down();
    faults.down(); // already down: nothing more
    now += 2000;
    await heal();
    await heal();
    faults.down();
    faults.healAll();
    expect(calls).toEqual(['refuse true', 'refuse false', 'refuse true', 'refuse false']);
    expect(timeline.windows.map((w) => [w.fault, w.detail])).toEqual([[REDIS_FAULT.down, { connectionsReset: 4 }], [REDIS_FAULT.down, { connectionsReset: 4 }]]);
    expect(timeline.windows.every((w) => Number.isFinite(w.endUs))).toBe(true);
  });

  it('healAll heals what is still active', () => {
    const timeline = new FaultTimeline(() => 1);
    const { proxy, calls } = fakeProxy();
    const faults = createRedisFaults({ proxy, used: () => true, timeline, nowUs: () => 1, rng: { next: () => 0 } });
    faults.latency(50);
    faults.blackhole();
    faults.healAll();
    expect(calls).toEqual(['setLatency 50 0', 'blackhole true', 'clearLatency', 'blackhole false']);
    expect(timeline.windows.every((w) => Number.isFinite(w.endUs))).toBe(true);
  });

  it('without Redis: no window, never in use', async () => {
    const timeline = new FaultTimeline(() => 1);
    const faults = createRedisFaults({ used: () => true, timeline, nowUs: () => 1, rng: { next: () => 0 } });
    expect(faults.inUse()).toBe(false);
    await faults.reset();
    await faults.latency(10)();
    await faults.blackhole()();
    expect(timeline.windows).toEqual([]);
  });
});

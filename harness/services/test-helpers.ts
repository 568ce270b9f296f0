// Shared helpers for the mock services' tests: start services on real ports (closed after each test) and call
// them with the harness's raw HTTP client, so resets, drops and timeouts are seen exactly as a candidate would.

import { afterEach } from 'vitest';
import { createRng } from '../seed.ts';
import { httpCall, targetOf, type HttpResponse } from '../generator/http-client.ts';
import { startMockServices } from './index.ts';
import type { MockServices, ServiceName, ServicesOptions } from './types.ts';

const open: MockServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

export async function startServices(options: ServicesOptions = {}, o: { instances?: number; seed?: number } = {}): Promise<MockServices> {
  const origin = process.hrtime.bigint();
  const services = await startMockServices({
    rng: createRng(o.seed ?? 1).fork('services'),
    nowUs: () => Number((process.hrtime.bigint() - origin) / 1000n),
    instances: o.instances ?? 2,
    options,
  });
  open.push(services);
  return services;
}

export interface CallOptions {
  body?: unknown;
  key?: string;
  instance?: number;
  timeoutMs?: number;
}

export function call(s: MockServices, service: ServiceName, method: 'GET' | 'POST' | 'DELETE', path: string, o: CallOptions = {}): Promise<HttpResponse> {
  return httpCall(
    targetOf(s.urlsFor(o.instance ?? 0)[service]),
    { method, path, body: o.body, headers: o.key ? { 'idempotency-key': o.key } : {} },
    o.timeoutMs ?? 5000,
  );
}

export const charge = (s: MockServices, key: string | undefined, body: unknown = { customerId: 'u1', amount: 1000, currency: 'usd' }, o: CallOptions = {}) =>
  call(s, 'payments', 'POST', '/charges', { ...o, key, body });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

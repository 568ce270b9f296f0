// One request through a mock service, in the order a real gateway would: record the attempt, outage, the seeded
// fault (those that answer without executing store nothing), the idempotency key, execution, then hold or ghost.

import type http from 'node:http';
import type { Rng } from '../seed.ts';
import type { Ledger } from './ledger.ts';
import type { FaultController, HeldResponse } from './fault-control.ts';
import { fingerprintOf, type IdempotencyStore } from './idempotency.ts';
import { decideFault, identityOf, ratesFor, type AttemptCounter } from './fault-schedule.ts';
import { readBody, resetConnection, sendJson } from './http-host.ts';
import type { AttemptRecord, ServiceName } from './types.ts';

export interface RouteCall {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when there was none). */
  body: any;
  instance: number;
  key: string | null;
  attempt: AttemptRecord;
}

export interface RouteResult {
  status: number;
  body: unknown;
  /** Whether the call took effect or made a business decision (default true). False for validation errors and misses. */
  executed?: boolean;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  /** `/charges/:id` style. */
  pattern: string;
  mutating: boolean;
  handle(call: RouteCall): RouteResult;
}

export interface ServiceDef {
  name: ServiceName;
  routes: RouteDef[];
}

export interface FlowDeps {
  ledger: Ledger;
  faults: FaultController;
  store: IdempotencyStore;
  counter: AttemptCounter;
  rng: Rng;
  nowUs(): number;
  /** Requests being processed right now (held responses excluded), for quiescence. */
  inFlight: { count: number };
}

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export const routeId = (r: RouteDef) => `${r.method} ${r.pattern}`;

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

export function requestHandler(def: ServiceDef, instance: number, deps: FlowDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    res.on('error', () => {});
    deps.inFlight.count++;
    let counted = true;
    const done = () => {
      if (counted) deps.inFlight.count--;
      counted = false;
    };
    handle(def, instance, deps, req, res, done).catch((err: Error) => {
      // A bug in the mock itself: say so loudly rather than blame the candidate silently.
      sendJson(res, 500, { code: 'mock_service_bug', message: err.stack ?? err.message });
      process.stderr.write(`gauntlet: mock ${def.name} failed on ${req.method} ${req.url}: ${err.stack ?? err.message}\n`);
    }).finally(done);
  };
}

async function handle(def: ServiceDef, instance: number, deps: FlowDeps, req: http.IncomingMessage, res: http.ServerResponse, done: () => void): Promise<void> {
  const { ledger, faults, nowUs } = deps;
  const startUs = nowUs();
  const read = await readBody(req);
  const rawBody = read === 'too-large' || read === 'aborted' ? '' : read;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const method = (req.method ?? 'GET').toUpperCase();
  const header = req.headers['idempotency-key'];
  const key = typeof header === 'string' && header.length > 0 ? header : null;
  let body: unknown;
  let badJson = false;
  if (rawBody && rawBody.trim()) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      badJson = true;
    }
  }
  const match = matchRoute(def.routes, method, pathname);
  const route = match ? routeId(match.route) : null;
  const attempt = ledger.beginAttempt({ service: def.name, method, path: url, route, instance, key, body: badJson ? rawBody : body, startUs });
  const headers: Record<string, string> = { 'request-id': `req_${attempt.seq}` };

  const answer = (a: Answer) => {
    if (sendJson(res, a.status, a.body, { ...headers, ...a.headers })) finish(attempt, nowUs(), 'answered', a.status, a.body);
    else finish(attempt, nowUs(), 'client-closed', 0);
  };
  const reset = (outcome: 'reset' | 'dropped') => {
    resetConnection(res);
    finish(attempt, nowUs(), outcome, 0);
  };

  if (read === 'aborted') return finish(attempt, nowUs(), 'client-closed', 0);
  if (read === 'too-large') return answer({ status: 413, body: { code: 'payload_too_large', message: 'the body is larger than 1 MB' }, headers: {} });
  if (!match) return answer({ status: 404, body: { code: 'route_not_found', message: `${def.name} has no route ${method} ${pathname}` }, headers: {} });

  const mutating = match.route.mutating;
  const identity = identityOf(mutating, key, url, body, rawBody);
  const n = deps.counter.next(def.name, route!, instance, identity);

  const outage = faults.activeOutage(def.name, instance);
  if (outage) {
    attempt.fault = 'outage';
    if (outage.mode === 'reset') return reset('reset');
    if (outage.retryAfterMs === undefined) return answer({ status: 503, body: { code: 'service_unavailable', message: `${def.name} is down (outage)` }, headers: {} });
    attempt.retryAfterMs = outage.retryAfterMs;
    return answer({ status: 503, body: { code: 'service_unavailable', message: `${def.name} is down (outage); retry after ${outage.retryAfterMs} ms`, retryAfterMs: outage.retryAfterMs }, headers: retryAfterHeaders(outage.retryAfterMs) });
  }

  const decision = decideFault(deps.rng, ratesFor(faults.get(def.name), route!), { service: def.name, route: route!, instance, identity, attempt: n });
  if (decision.latencyMs) attempt.latencyMs = decision.latencyMs;

  // Faults answered before executing: nothing happens, nothing is stored under the key.
  if (decision.kind === 'error-500' || decision.kind === 'error-503' || decision.kind === 'rate-limit-429' || decision.kind === 'reset') {
    attempt.fault = decision.kind;
    await sleep(decision.latencyMs);
    if (decision.kind === 'reset') return reset('reset');
    if (decision.kind === 'error-500') return answer({ status: 500, body: { code: 'internal_error', message: 'injected fault: internal error (nothing was done)' }, headers: {} });
    if (decision.kind === 'error-503') return answer({ status: 503, body: { code: 'service_unavailable', message: 'injected fault: unavailable (nothing was done)' }, headers: {} });
    const ms = decision.retryAfterMs!;
    attempt.retryAfterMs = ms;
    return answer({ status: 429, body: { code: 'rate_limited', message: `too many requests; retry after ${ms} ms`, retryAfterMs: ms }, headers: retryAfterHeaders(ms) });
  }

  const call: RouteCall = { params: match.params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), body, instance, key, attempt };
  const execute = (): RouteResult => {
    if (badJson) return { status: 400, body: { code: 'invalid_request', message: 'the body is not valid JSON' }, executed: false };
    return match.route.handle(call);
  };

  let result: Answer;
  if (mutating && key !== null) {
    const look = deps.store.begin(key, fingerprintOf(method, pathname, body, rawBody));
    // The key is locked (in flight) from here on, latency included: a concurrent same-key call gets 409.
    await sleep(decision.latencyMs);
    if (look.kind === 'mismatch') {
      result = { status: 422, body: { code: 'idempotency_mismatch', message: `the Idempotency-Key "${key}" was first used with another request; use a new key for a different request` }, headers: {} };
    } else if (look.kind === 'in-progress') {
      result = { status: 409, body: { code: 'request_in_progress', message: `a request with the Idempotency-Key "${key}" is still being processed; retry later` }, headers: {} };
    } else if (look.kind === 'replay') {
      attempt.replayed = true;
      result = { status: look.result.status, body: look.result.body, headers: { 'idempotent-replayed': 'true', 'original-request': `req_${look.result.attempt}` } };
    } else {
      let r: RouteResult;
      try {
        r = execute();
      } catch (err) {
        look.release(null);
        throw err;
      }
      attempt.executed = r.executed !== false;
      look.release(attempt.executed ? { status: r.status, body: r.body, attempt: attempt.seq } : null);
      result = { status: r.status, body: r.body, headers: {} };
    }
  } else {
    await sleep(decision.latencyMs);
    const r = execute();
    attempt.executed = r.executed !== false;
    result = { status: r.status, body: r.body, headers: {} };
  }

  // Faults after processing: the result stands (and is stored), the caller just does not learn it.
  if (decision.kind === 'ghost') {
    attempt.fault = 'ghost';
    return reset('dropped');
  }
  if (decision.kind === 'hold') {
    attempt.fault = 'hold';
    done();
    return hold(def.name, deps, res, attempt, result, headers, decision.holdMs);
  }
  answer(result);
}

function hold(service: ServiceName, deps: FlowDeps, res: http.ServerResponse, attempt: AttemptRecord, result: Answer, headers: Record<string, string>, holdMs?: number): void {
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  const end = () => {
    over = true;
    deps.faults.held.delete(held);
    clearTimeout(timer);
  };
  const held: HeldResponse = {
    service,
    release: () => {
      if (over) return;
      end();
      if (sendJson(res, result.status, result.body, { ...headers, ...result.headers })) finish(attempt, deps.nowUs(), 'answered', result.status, result.body);
      else finish(attempt, deps.nowUs(), 'client-closed', 0);
    },
  };
  deps.faults.held.add(held);
  res.on('close', () => {
    if (over) return;
    end();
    finish(attempt, deps.nowUs(), 'client-closed', 0);
  });
  if (holdMs !== undefined) {
    timer = setTimeout(held.release, holdMs);
    timer.unref();
  }
}

/** `Retry-After` in whole seconds (rounded up, so honouring it is never early) and `Retry-After-Ms` exactly. */
function retryAfterHeaders(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

function finish(attempt: AttemptRecord, atUs: number, outcome: AttemptRecord['outcome'], status: number, body?: unknown): void {
  attempt.endUs = atUs;
  attempt.outcome = outcome;
  attempt.status = status;
  const code = (body as { code?: unknown } | undefined)?.code;
  if (status >= 400 && typeof code === 'string') attempt.code = code;
}

export function matchRoute(routes: RouteDef[], method: string, pathname: string): { route: RouteDef; params: Record<string, string> } | null {
  const parts = pathname.split('/').filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.pattern.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      if (pattern[i].startsWith(':')) {
        try {
          params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else ok = pattern[i] === parts[i];
    }
    if (ok) return { route, params };
  }
  return null;
}

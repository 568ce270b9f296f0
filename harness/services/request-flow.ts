// One request through a mock service, in the order a real gateway would: record the attempt, outage, the seeded
// fault (those that answer without executing store nothing), the idempotency key, execution, then hold or ghost.

import type http from 'node:http';
import type { Rng } from '../seed.ts';
import type { Ledger } from './ledger.ts';
import type { FaultController, HeldResponse } from './fault-control.ts';
import { fingerprintOf, type IdempotencyStore } from './idempotency.ts';
import { decideFault, identityOf, ratesFor, type AttemptCounter, type FaultDecision } from './fault-schedule.ts';
import { readBody, resetConnection, sendJson } from './http-host.ts';
import { retryAfterHeaders } from './responses.ts';
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
  /** Headers of the answer (a provider's 429 sends Retry-After); stored with it only in so far as the answer is. */
  headers?: Record<string, string>;
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

/** One request on its way through the flow: where it came in, its ledger record, and what every answer to it carries. */
interface Exchange {
  def: ServiceDef;
  instance: number;
  deps: FlowDeps;
  res: http.ServerResponse;
  attempt: AttemptRecord;
  /** Headers every answer carries (the request id). */
  headers: Record<string, string>;
}

/** A request as read: its body as text and as JSON, its path and query, method and Idempotency-Key. */
interface Incoming {
  /** What readBody said: the body, or that it was too large or the client went away. */
  read: string;
  rawBody: string;
  /** Path and query, as sent. */
  url: string;
  pathname: string;
  /** The query string without its `?`. */
  search: string;
  method: string;
  key: string | null;
  body: unknown;
  badJson: boolean;
}

type RouteMatch = NonNullable<ReturnType<typeof matchRoute>>;

/** Faults answered before executing: nothing happens, nothing is stored under the key. */
type EarlyFault = FaultDecision & { kind: 'error-500' | 'error-503' | 'rate-limit-429' | 'reset' };

async function handle(def: ServiceDef, instance: number, deps: FlowDeps, req: http.IncomingMessage, res: http.ServerResponse, done: () => void): Promise<void> {
  const startUs = deps.nowUs();
  const call = await readIncoming(req);
  const match = matchRoute(def.routes, call.method, call.pathname);
  const route = match ? routeId(match.route) : null;
  const attempt = deps.ledger.beginAttempt({ service: def.name, method: call.method, path: call.url, route, instance, key: call.key, body: call.badJson ? call.rawBody : call.body, startUs });
  const x: Exchange = { def, instance, deps, res, attempt, headers: { 'request-id': `req_${attempt.seq}` } };

  if (call.read === 'aborted') return finish(attempt, deps.nowUs(), 'client-closed', 0);
  if (call.read === 'too-large') return answer(x, { status: 413, body: { code: 'payload_too_large', message: 'the body is larger than 1 MB' }, headers: {} });
  if (!match) return answer(x, { status: 404, body: { code: 'route_not_found', message: `${def.name} has no route ${call.method} ${call.pathname}` }, headers: {} });

  const identity = identityOf(match.route.mutating, call.key, call.url, call.body, call.rawBody);
  const n = deps.counter.next(def.name, route!, instance, identity);
  const outage = deps.faults.activeOutage(def.name, instance);
  if (outage) return answerOutage(x, outage);

  const decision = decideFault(deps.rng, ratesFor(deps.faults.get(def.name), route!), { service: def.name, route: route!, instance, identity, attempt: n });
  if (decision.latencyMs) attempt.latencyMs = decision.latencyMs;
  if (answeredBeforeExecuting(decision)) return answerEarlyFault(x, decision);
  const result = await execute(x, call, match, decision.latencyMs);
  deliver(x, result, decision, done);
}

async function readIncoming(req: http.IncomingMessage): Promise<Incoming> {
  const read = await readBody(req);
  const rawBody = read === 'too-large' || read === 'aborted' ? '' : read;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const header = req.headers['idempotency-key'];
  return {
    read,
    rawBody,
    url,
    pathname: q < 0 ? url : url.slice(0, q),
    search: q < 0 ? '' : url.slice(q + 1),
    method: (req.method ?? 'GET').toUpperCase(),
    key: typeof header === 'string' && header.length > 0 ? header : null,
    ...parseBody(rawBody),
  };
}

/** The body as JSON; `badJson` when there was one that is not JSON (the route never runs on it: 400). */
function parseBody(rawBody: string): { body: unknown; badJson: boolean } {
  if (!rawBody || !rawBody.trim()) return { body: undefined, badJson: false };
  try {
    return { body: JSON.parse(rawBody), badJson: false };
  } catch {
    return { body: undefined, badJson: true };
  }
}

/** The service is down for this instance: the connection reset, or a 503 (with Retry-After when the outage gives one). */
function answerOutage(x: Exchange, outage: { mode: '503' | 'reset'; retryAfterMs?: number }): void {
  const { def, attempt } = x;
  attempt.fault = 'outage';
  if (outage.mode === 'reset') return reset(x, 'reset');
  if (outage.retryAfterMs === undefined) return answer(x, { status: 503, body: { code: 'service_unavailable', message: `${def.name} is down (outage)` }, headers: {} });
  attempt.retryAfterMs = outage.retryAfterMs;
  return answer(x, { status: 503, body: { code: 'service_unavailable', message: `${def.name} is down (outage); retry after ${outage.retryAfterMs} ms`, retryAfterMs: outage.retryAfterMs }, headers: retryAfterHeaders(outage.retryAfterMs) });
}

function answeredBeforeExecuting(decision: FaultDecision): decision is EarlyFault {
  return decision.kind === 'error-500' || decision.kind === 'error-503' || decision.kind === 'rate-limit-429' || decision.kind === 'reset';
}

async function answerEarlyFault(x: Exchange, decision: EarlyFault): Promise<void> {
  x.attempt.fault = decision.kind;
  await sleep(decision.latencyMs);
  if (decision.kind === 'reset') return reset(x, 'reset');
  if (decision.kind === 'error-500') return answer(x, { status: 500, body: { code: 'internal_error', message: 'injected fault: internal error (nothing was done)' }, headers: {} });
  if (decision.kind === 'error-503') return answer(x, { status: 503, body: { code: 'service_unavailable', message: 'injected fault: unavailable (nothing was done)' }, headers: {} });
  const ms = decision.retryAfterMs!;
  x.attempt.retryAfterMs = ms;
  return answer(x, { status: 429, body: { code: 'rate_limited', message: `too many requests; retry after ${ms} ms`, retryAfterMs: ms }, headers: retryAfterHeaders(ms) });
}

/** The route's work, after the decided latency: once per Idempotency-Key for a keyed mutating call, otherwise as asked. */
async function execute(x: Exchange, call: Incoming, match: RouteMatch, latencyMs: number): Promise<Answer> {
  const routeCall: RouteCall = { params: match.params, query: new URLSearchParams(call.search), body: call.body, instance: x.instance, key: call.key, attempt: x.attempt };
  const run = (): RouteResult => {
    if (call.badJson) return { status: 400, body: { code: 'invalid_request', message: 'the body is not valid JSON' }, executed: false };
    return match.route.handle(routeCall);
  };
  if (match.route.mutating && call.key !== null) return executeOnce(x, call.key, fingerprintOf(call.method, call.pathname, call.body, call.rawBody), latencyMs, run);
  await sleep(latencyMs);
  const r = run();
  x.attempt.executed = r.executed !== false;
  return { status: r.status, body: r.body, headers: r.headers ?? {} };
}

/** A keyed call: a replay of the key's stored result, 422 for another request under it, 409 while it is in flight, else run and stored. */
async function executeOnce(x: Exchange, key: string, fingerprint: string, latencyMs: number, run: () => RouteResult): Promise<Answer> {
  const { attempt } = x;
  const look = x.deps.store.begin(key, fingerprint);
  // The key is locked (in flight) from here on, latency included: a concurrent same-key call gets 409.
  await sleep(latencyMs);
  if (look.kind === 'mismatch') {
    return { status: 422, body: { code: 'idempotency_mismatch', message: `the Idempotency-Key "${key}" was first used with another request; use a new key for a different request` }, headers: {} };
  }
  if (look.kind === 'in-progress') {
    return { status: 409, body: { code: 'request_in_progress', message: `a request with the Idempotency-Key "${key}" is still being processed; retry later` }, headers: {} };
  }
  if (look.kind === 'replay') {
    attempt.replayed = true;
    return { status: look.result.status, body: look.result.body, headers: { 'idempotent-replayed': 'true', 'original-request': `req_${look.result.attempt}` } };
  }
  let r: RouteResult;
  try {
    r = run();
  } catch (err) {
    look.release(null);
    throw err;
  }
  attempt.executed = r.executed !== false;
  look.release(attempt.executed ? { status: r.status, body: r.body, attempt: attempt.seq } : null);
  return { status: r.status, body: r.body, headers: r.headers ?? {} };
}

/** The result to the caller — unless a fault after processing drops it (ghost) or holds it: the result stands (and is stored) either way. */
function deliver(x: Exchange, result: Answer, decision: FaultDecision, done: () => void): void {
  if (decision.kind === 'ghost') {
    x.attempt.fault = 'ghost';
    return reset(x, 'dropped');
  }
  if (decision.kind === 'hold') {
    x.attempt.fault = 'hold';
    done();
    return hold(x.def.name, x.deps, x.res, x.attempt, result, x.headers, decision.holdMs);
  }
  answer(x, result);
}

function answer(x: Exchange, a: Answer): void {
  if (sendJson(x.res, a.status, a.body, { ...x.headers, ...a.headers })) finish(x.attempt, x.deps.nowUs(), 'answered', a.status, a.body);
  else finish(x.attempt, x.deps.nowUs(), 'client-closed', 0);
}

function reset(x: Exchange, outcome: 'reset' | 'dropped'): void {
  resetConnection(x.res);
  finish(x.attempt, x.deps.nowUs(), outcome, 0);
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

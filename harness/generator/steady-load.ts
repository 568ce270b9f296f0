// Steady load for a fixed duration with autocannon@9: one autocannon run per target (so each request's instance
// is known without parsing URLs back), all started together; µs latencies measured here, per request.
//
// Why not autocannon's own latencies: it records whole milliseconds. Here each request's start is taken in
// `setupRequest` and its end in `onResponse`. With pipelining 1 (forced) that is exact, from autocannon's
// source (lib/httpClient.js, lib/requestIterator.js): a connection's first request is built in the Client
// constructor and written in the same tick (buffered until connected, so it includes the TCP connect); every
// later one is built by `_doRequest` → `nextRequest` → `setupRequest` right before `conn.write`, after the
// previous response's `onResponse`. The request's record travels in the per-connection `context` object, which
// autocannon hands to both callbacks and only replaces when it builds the next request.
// Every request reaches `onResult` exactly once: answered; `refused` (never sent); or `no-response` (autocannon
// gave up on it after a timeout or a reset and sent the next one, or it was in flight when the run stopped).

import autocannon from 'autocannon';
import type { LatencySummary } from '../types.ts';
import { LatencyRecorder } from '../history/latency.ts';

export type SteadyMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface SteadyRequest<M = unknown> {
  method: SteadyMethod;
  /** Path (and query), appended to the target URL's own path. */
  path: string;
  /** A string is sent as it is; anything else as JSON (with `content-type: application/json`). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Handed back to `onResult` with this request's outcome. */
  meta?: M;
}

export interface SteadyLoadTarget {
  instance: number;
  url: string;
  /** A contained instance's Unix socket (the URL then gives only the path prefix and Host). */
  socketPath?: string;
}

export interface SteadyLoadOptions<M = unknown> {
  targets: SteadyLoadTarget[];
  durationMs: number;
  connectionsPerTarget: number;
  /** Builds the next request; `seq` counts requests across all targets from 0 (a seed for per-request choices). */
  makeRequest(seq: number, instance: number): SteadyRequest<M>;
  /**
   * Every request's outcome, once. With no response, status is 0, the body empty, and `error` says which:
   * `refused` (the connection was refused: the request never reached the server, a definite failure) or
   * `no-response` (sent, then a timeout, a reset or the end of the run: it may or may not have happened).
   */
  onResult?(
    meta: M | undefined,
    status: number,
    bodyText: string,
    startUs: number,
    endUs: number,
    instance: number,
    error?: 'refused' | 'no-response',
  ): void;
  /** The history's clock. */
  nowUs(): number;
  /** Per-request response timeout (whole seconds for autocannon, at least 1 s); 10 s by default. */
  timeoutMs?: number;
  /** Stops the load early. */
  signal?: AbortSignal;
}

export interface SteadyLoadResult {
  /** Responses received (any status). */
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  /** Requests sent that never got a response (onResult: status 0, `no-response`). */
  unanswered: number;
  /** Requests whose connection was refused, so never sent (onResult: status 0, `refused`). */
  refused: number;
  /** Responses per second over the measured run time. */
  throughputPerS: number;
  durationMs: number;
  /** Latency of the answered requests, µs precision. */
  latency: LatencySummary;
}

/** How often autocannon checks whether its duration is over; its default (1 s) overshoots short runs. */
const SAMPLE_INTERVAL_MS = 100;

interface Pending<M> {
  meta: M | undefined;
  instance: number;
  startUs: number;
  startNs: bigint;
  /** Written to a connection (the constructor-built first request is written a moment after it is built). */
  sent: boolean;
}

/** One autocannon connection (Client): the request it carries now, and how many connects in a row were refused. */
interface ConnectionState<M> {
  current: Pending<M> | null;
  refusedStreak: number;
}

/** The parts of autocannon's Client (lib/httpClient.js) used here; `_connect` is private, hence optional. */
interface AutocannonClient extends NodeJS.EventEmitter {
  destroyed: boolean;
  _connect?: (this: AutocannonClient) => void;
}

/** Connect errors after which the request cannot have reached the server. */
// ENOENT: a contained instance's Unix socket is gone (its process stopped): as refused as a closed port.
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'ENOENT']);
const REFUSED_BACKOFF_BASE_MS = 20;
const REFUSED_BACKOFF_MAX_MS = 250;

type Context = Record<string, unknown>;
const CONTEXT_KEY = 'gauntletPending';

function encodeBody(request: SteadyRequest<unknown>): { body: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let body = '';
  if (typeof request.body === 'string') body = request.body;
  else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] = 'application/json';
  }
  return { body, headers: { ...headers, ...request.headers } };
}

function splitUrl(url: string): { origin: string; prefix: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, prefix: parsed.pathname.replace(/\/+$/, '') };
}

const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;

export async function runSteadyLoad<M = unknown>(options: SteadyLoadOptions<M>): Promise<SteadyLoadResult> {
  const { targets, durationMs, connectionsPerTarget, makeRequest, onResult, nowUs } = options;
  if (targets.length === 0) throw new RangeError('steady load needs at least one target');
  if (!(durationMs > 0) || !(connectionsPerTarget >= 1)) {
    throw new RangeError(`steady load needs durationMs > 0 and connectionsPerTarget >= 1 (got ${durationMs}, ${connectionsPerTarget})`);
  }
  const timeoutS = Math.max(1, Math.ceil((options.timeoutMs ?? 10_000) / 1000));
  const pending = new Set<Pending<M>>();
  const latency = new LatencyRecorder();
  const backoffTimers = new Set<NodeJS.Timeout>();
  // Without a callback autocannon returns its tracker (an EventEmitter with stop()) made thenable.
  const runs: Array<Promise<autocannon.Result> & { stop?(): void }> = [];
  const stopAll = () => runs.forEach((run) => run.stop?.());
  let seq = 0;
  let requests = 0;
  let non2xx = 0;
  let unanswered = 0;
  let refused = 0;
  // A throwing makeRequest or onResult is our bug: stop the load and reject with it (never let it escape into
  // autocannon's socket callbacks, where it would be an uncaught exception).
  let failure: unknown = null;
  const fail = (err: unknown) => {
    failure ??= err;
    stopAll();
  };
  const report: NonNullable<SteadyLoadOptions<M>['onResult']> = (...args) => {
    try {
      onResult?.(...args);
    } catch (err) {
      fail(err);
    }
  };

  // Which connection a record belongs to, without reaching into autocannon's request iterator: the Client
  // constructor builds its first request before calling setupClient (→ `claim`), and every later build runs
  // synchronously right after the Client's 'request' event (→ `building`).
  let claim: Pending<M> | null = null;
  let building: ConnectionState<M> | null = null;

  const finishUnanswered = (record: Pending<M>, error: 'refused' | 'no-response', endUs = nowUs()) => {
    if (!pending.delete(record)) return;
    if (error === 'refused') refused++;
    else unanswered++;
    report(record.meta, 0, '', record.startUs, endUs, record.instance, error);
  };

  const setupClient = (client: AutocannonClient) => {
    const state: ConnectionState<M> = { current: claim, refusedStreak: 0 };
    claim = null;
    client.on('request', () => {
      const previous = state.current;
      if (previous && !previous.sent) {
        previous.sent = true; // the constructor-built first request, written now; nothing is built after it
        return;
      }
      // With pipelining 1 a new request while the previous one is unanswered means autocannon gave up on it
      // (timeout, reset, closed connection) and reconnected.
      if (previous) finishUnanswered(previous, 'no-response');
      building = state;
    });
    client.on('connError', (err: NodeJS.ErrnoException) => {
      // Emitted before autocannon reconnects, so `current` is the request the failed connection carried.
      const notSent = NOT_CONNECTED_CODES.has(err?.code ?? '');
      if (state.current) finishUnanswered(state.current, notSent ? 'refused' : 'no-response');
      state.refusedStreak = notSent ? state.refusedStreak + 1 : 0;
    });
    client.on('response', () => {
      state.refusedStreak = 0;
    });
    // autocannon reconnects at once after a refused connection: against a killed instance that is a hot loop
    // (thousands of connects per second on two cores). Back off while connections are refused (Client._connect,
    // autocannon 9's lib/httpClient.js; left alone when that private method is not there).
    const connect = client._connect;
    if (typeof connect === 'function') {
      let timer: NodeJS.Timeout | null = null;
      client._connect = function backoffConnect(this: AutocannonClient) {
        if (state.refusedStreak === 0) return connect.call(this);
        if (timer) return;
        const delayMs = Math.min(REFUSED_BACKOFF_MAX_MS, REFUSED_BACKOFF_BASE_MS * 2 ** (state.refusedStreak - 1));
        timer = setTimeout(() => {
          backoffTimers.delete(timer!);
          timer = null;
          if (!client.destroyed) connect.call(client);
        }, delayMs);
        backoffTimers.add(timer);
      };
    }
  };

  const startedNs = process.hrtime.bigint();
  for (const target of targets) {
    const { origin, prefix } = splitUrl(target.url);
    const request: autocannon.Request = {
      setupRequest(base, context) {
        let next: SteadyRequest<M>;
        try {
          next = makeRequest(seq++, target.instance);
        } catch (err) {
          fail(err);
          (context as Context)[CONTEXT_KEY] = undefined;
          return { ...base, method: 'GET', path: prefix + '/' }; // autocannon needs a request; the run is stopping
        }
        const { body, headers } = encodeBody(next);
        const record: Pending<M> = {
          meta: next.meta,
          instance: target.instance,
          startUs: nowUs(),
          startNs: process.hrtime.bigint(),
          sent: building !== null,
        };
        if (building) building.current = record;
        else claim = record;
        building = null;
        pending.add(record);
        (context as Context)[CONTEXT_KEY] = record;
        return { ...base, method: next.method, path: prefix + next.path, headers, body };
      },
      onResponse(status, body, context) {
        const record = (context as Context)[CONTEXT_KEY] as Pending<M> | undefined;
        if (!record || !pending.delete(record)) return;
        const endUs = nowUs();
        latency.recordUs(Number(process.hrtime.bigint() - record.startNs) / 1000);
        requests++;
        if (status < 200 || status >= 300) non2xx++;
        report(record.meta, status, body, record.startUs, endUs, record.instance);
      },
    };
    runs.push(
      autocannon({
        url: origin,
        ...(target.socketPath ? { socketPath: target.socketPath } : {}),
        connections: connectionsPerTarget,
        pipelining: 1,
        duration: durationMs / 1000,
        timeout: timeoutS,
        sampleInt: SAMPLE_INTERVAL_MS,
        requests: [request],
        setupClient,
      } as unknown as autocannon.Options) as Promise<autocannon.Result> & { stop?(): void },
    );
  }

  if (failure || options.signal?.aborted) stopAll();
  options.signal?.addEventListener('abort', stopAll, { once: true });
  let results: autocannon.Result[];
  try {
    results = await Promise.all(runs);
  } finally {
    options.signal?.removeEventListener('abort', stopAll);
    for (const timer of backoffTimers) clearTimeout(timer);
    backoffTimers.clear();
  }
  const runMs = elapsedMs(startedNs);

  // Still in flight when the run stopped: may or may not have happened.
  const endUs = nowUs();
  for (const record of [...pending]) finishUnanswered(record, 'no-response', endUs);
  if (failure) throw failure;

  return {
    requests,
    non2xx,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    unanswered,
    refused,
    throughputPerS: runMs > 0 ? Math.round((requests / runMs) * 1000 * 10) / 10 : 0,
    durationMs: Math.round(runMs),
    latency: latency.summary(),
  };
}

export interface PlainAutocannonOptions {
  url: string;
  durationMs: number;
  connections: number;
  method?: SteadyMethod;
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface PlainAutocannonResult {
  requests: number;
  non2xx: number;
  errors: number;
  throughputPerS: number;
  durationMs: number;
}

/**
 * The same request over and over with autocannon alone (no per-request callbacks): the ceiling the steady-load
 * driver is compared with (driver/autocannon ratio). Throughput is computed the same way as runSteadyLoad's.
 */
export async function runPlainAutocannon(options: PlainAutocannonOptions): Promise<PlainAutocannonResult> {
  const { origin, prefix } = splitUrl(options.url);
  const { body, headers } = encodeBody({ method: options.method ?? 'GET', path: options.path ?? '/', body: options.body, headers: options.headers });
  const startedNs = process.hrtime.bigint();
  const result = await autocannon({
    // autocannon takes the path from the URL (a top-level `path` option is not used by lib/run.js)
    url: origin + prefix + (options.path ?? '/'),
    connections: options.connections,
    pipelining: 1,
    duration: options.durationMs / 1000,
    sampleInt: SAMPLE_INTERVAL_MS,
    method: options.method ?? 'GET',
    headers,
    ...(body ? { body } : {}),
  } as autocannon.Options);
  const runMs = elapsedMs(startedNs);
  const completed = result.requests.total; // responses received (autocannon's totalCompletedRequests)
  return {
    requests: completed,
    non2xx: result.non2xx,
    errors: result.errors,
    throughputPerS: runMs > 0 ? Math.round((completed / runMs) * 1000 * 10) / 10 : 0,
    durationMs: Math.round(runMs),
  };
}

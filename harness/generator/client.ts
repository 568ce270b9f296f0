// The client: turns a call spec into exactly one history entry (invoke, then ok | fail | info), one call at a
// time or as a barrier burst. Instance choice is the caller's (seeded round-robin in the scenario), so the
// history says which instance answered.

import type { CallSpec, ClientHandle, ClusterHandle } from '../scenario.ts';
import type { Op } from '../types.ts';
import type { History } from '../history/history.ts';
import { runSteadyLoad } from './steady-load.ts';
import { arm, encodeRequest, openConnection, targetOf, type ArmedExchange, type HttpResponse } from './http-client.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { raiseForRelease } from './release-priority.ts';

/**
 * The release: one last byte per connection, each write's time kept. A function of its own, so the JIT compiles
 * (on-stack replacement, mid-loop in the first big burst) this small loop and not the whole burst: compiling the
 * burst cost one 5–6 ms stall inside the first 1000-caller release of a process.
 */
function releaseAll(armed: ArmedExchange[], lastBytes: Buffer[], writtenNs: (bigint | undefined)[]): void {
  for (let i = 0; i < armed.length; i++) {
    if (armed[i].send(lastBytes[i])) writtenNs[i] = process.hrtime.bigint();
  }
}

/** The answer deadline: a call slower than this is slow (measured, reported), not yet failed. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** The hard limit for a call without a deadline of its own: far above any sane latency (CONTRACT §8). */
export const DEFAULT_HARD_LIMIT_MS = 60_000;

export interface ClientTimeouts {
  /** Answer deadline (soft): past it a call is still awaited while other calls keep being answered. */
  callTimeoutMs: number;
  /** Hard limit for calls without their own `timeoutMs`. */
  hardLimitMs: number;
}

function outcomeOf(spec: CallSpec, res: HttpResponse) {
  if (res.transport) {
    // Never sent (refused, connect timeout): definitely did not happen. Sent, then reset or timeout: unknown.
    return res.sent
      ? { type: 'info' as const, error: `${res.transport}: ${res.transportError ?? ''}`.trim() }
      : { type: 'fail' as const, code: 'UNAVAILABLE', error: `instance unreachable (${res.transport}): ${res.transportError ?? ''}`.trim() };
  }
  return { ...spec.decode(res), status: res.status };
}

/**
 * A call whose spec sets `timeoutMs` is a client with a deadline of its own (a webhook provider, a buyer who gives
 * up): it ends there. Any other call is awaited past the answer deadline while the system makes progress, and
 * given up when nothing was answered for a whole deadline (hung) or at the hard limit (StallWatchdog).
 */
export function createClient(history: History, cluster: Pick<ClusterHandle, 'baseUrl' | 'size'> & Partial<Pick<ClusterHandle, 'target'>>, timeouts: number | Partial<ClientTimeouts> = {}): ClientHandle {
  const given = typeof timeouts === 'number' ? { callTimeoutMs: timeouts } : timeouts;
  const callTimeoutMs = given.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  // The hard limit is never below the answer deadline.
  const hardLimitMs = Math.max(given.hardLimitMs ?? DEFAULT_HARD_LIMIT_MS, callTimeoutMs);
  const watchdog = new StallWatchdog({ answerDeadlineMs: callTimeoutMs });
  const limitOf = (spec: CallSpec) => spec.timeoutMs ?? hardLimitMs;
  const targetFor = (i: number) => (cluster.target ? cluster.target(i) : targetOf(cluster.baseUrl(i)));
  /** A sent call without a deadline of its own is watched for a hang. */
  const watchSent = (spec: CallSpec, x: ArmedExchange): void => {
    if (spec.timeoutMs !== undefined) return;
    const unwatch = watchdog.watch((reason) => x.expire(reason));
    void x.result.then(unwatch);
  };
  const completed = (op: Op, spec: CallSpec, res: HttpResponse): Op => {
    watchdog.answered();
    return history.complete(op, outcomeOf(spec, res));
  };
  return {
    async call(spec: CallSpec): Promise<Op> {
      const target = targetFor(spec.instance);
      const op = history.invoke(spec);
      const conn = await openConnection(target, Math.min(limitOf(spec), 5000));
      const x = arm(conn, limitOf(spec));
      if (x.send(encodeRequest(target, spec.request))) watchSent(spec, x);
      return completed(op, spec, await x.result);
    },

    async burst(specs: CallSpec[]) {
      const connectStart = history.nowUs();
      const prepared = specs.map((spec) => {
        const target = targetFor(spec.instance);
        return { spec, target, bytes: encodeRequest(target, spec.request) };
      });
      // Open every connection first (bounded parallelism so a listen backlog never drops SYNs).
      const conns = new Array(prepared.length);
      let next = 0;
      const opener = async () => {
        while (next < prepared.length) {
          const i = next++;
          conns[i] = await openConnection(prepared[i].target, 5000);
        }
      };
      await Promise.all(Array.from({ length: Math.min(64, prepared.length) }, opener));
      const connectMs = (history.nowUs() - connectStart) / 1000;
      // Arm every exchange first (listeners, parsers), then release: a tight loop of bare socket writes, then
      // record the invocations with the time each write happened (no answer is processed before this
      // synchronous code ends).
      const armed = prepared.map(({ spec }, i) => arm(conns[i], limitOf(spec)));
      // Every request but its last byte goes out ahead: no server can act on an incomplete request, and the
      // release then costs one tiny write per connection.
      for (let i = 0; i < prepared.length; i++) armed[i].prime(prepared[i].bytes.subarray(0, prepared[i].bytes.length - 1));
      const lastBytes = prepared.map(({ bytes }) => bytes.subarray(bytes.length - 1));
      // The release loop runs at real-time priority where allowed (release-priority.ts); raising it takes the
      // primed bytes' time to arrive, at least 20 ms.
      const [raised] = await Promise.all([raiseForRelease(), new Promise((resolve) => setTimeout(resolve, 20))]);
      const writtenNs = new Array<bigint | undefined>(prepared.length);
      try {
        releaseAll(armed, lastBytes, writtenNs);
      } finally {
        raised.restore();
      }
      for (let i = 0; i < prepared.length; i++) if (writtenNs[i] !== undefined) watchSent(prepared[i].spec, armed[i]);
      const written = writtenNs.filter((t): t is bigint => t !== undefined);
      const releaseSkewMs = written.length > 1 ? Number(written[written.length - 1] - written[0]) / 1e6 : 0;
      const pending = prepared.map(({ spec }, i) => {
        const at = writtenNs[i];
        const op = history.invoke(spec, at === undefined ? history.nowUs() : history.usAt(at));
        return armed[i].result.then((res) => completed(op, spec, res));
      });
      const ops = await Promise.all(pending);
      return { ops, releaseSkewMs, connectMs, releasePriority: raised.priority };
    },

    steady({ durationMs, connectionsPerInstance, make }) {
      return runSteadyLoad<CallSpec>({
        targets: Array.from({ length: cluster.size }, (_, i) => ({ instance: i, url: cluster.baseUrl(i), socketPath: targetFor(i).socketPath })),
        durationMs,
        connectionsPerTarget: connectionsPerInstance,
        nowUs: () => history.nowUs(),
        timeoutMs: callTimeoutMs,
        makeRequest(seq, instance) {
          const spec = make(seq, instance);
          const r = spec.request;
          return { method: r.method, path: r.path, body: r.rawBody ?? r.body, headers: r.headers, meta: spec };
        },
        onResult(spec, status, bodyText, startUs, endUs) {
          if (!spec) return;
          const op = history.invoke(spec, startUs);
          if (status === 0) {
            history.complete(op, { type: 'info', error: 'no answer before the load ended (timeout or reset)' }, endUs);
            return;
          }
          let body: unknown;
          try {
            body = bodyText ? JSON.parse(bodyText) : undefined;
          } catch {
            body = undefined;
          }
          history.complete(op, { ...spec.decode({ status, headers: {}, bodyText, body, sent: true }), status }, endUs);
        },
      });
    },
  };
}

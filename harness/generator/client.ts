// The client: turns a call spec into exactly one history entry (invoke, then ok | fail | info), one call at a
// time or as a barrier burst. Instance choice is the caller's (seeded round-robin in the scenario), so the
// history says which instance answered.

import type { CallSpec, ClientHandle, ClusterHandle } from '../scenario.ts';
import type { Op } from '../types.ts';
import type { History } from '../history/history.ts';
import { runSteadyLoad } from './steady-load.ts';
import { encodeRequest, exchange, openConnection, targetOf, type HttpResponse } from './http-client.ts';

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

function outcomeOf(spec: CallSpec, res: HttpResponse) {
  if (res.transport) {
    // Never sent (refused, connect timeout): definitely did not happen. Sent, then reset or timeout: unknown.
    return res.sent
      ? { type: 'info' as const, error: `${res.transport}: ${res.transportError ?? ''}`.trim() }
      : { type: 'fail' as const, code: 'UNAVAILABLE', error: `instance unreachable (${res.transport}): ${res.transportError ?? ''}`.trim() };
  }
  return { ...spec.decode(res), status: res.status };
}

export function createClient(history: History, cluster: Pick<ClusterHandle, 'baseUrl' | 'size'>, defaultTimeoutMs = DEFAULT_CALL_TIMEOUT_MS): ClientHandle {
  return {
    async call(spec: CallSpec): Promise<Op> {
      const timeoutMs = spec.timeoutMs ?? defaultTimeoutMs;
      const target = targetOf(cluster.baseUrl(spec.instance));
      const op = history.invoke(spec);
      const conn = await openConnection(target, Math.min(timeoutMs, 5000));
      const res = await exchange(conn, encodeRequest(target, spec.request), timeoutMs);
      return history.complete(op, outcomeOf(spec, res));
    },

    async burst(specs: CallSpec[]) {
      const connectStart = history.nowUs();
      const prepared = specs.map((spec) => {
        const target = targetOf(cluster.baseUrl(spec.instance));
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
      // Release: write every request in one tight loop (nothing else in it), then record the invocations with
      // the time each write happened; no response can be processed before this synchronous code ends.
      const writtenUs = new Array<number>(prepared.length);
      const answers: Promise<HttpResponse>[] = [];
      for (let i = 0; i < prepared.length; i++) {
        answers.push(exchange(conns[i], prepared[i].bytes, prepared[i].spec.timeoutMs ?? defaultTimeoutMs, () => {
          writtenUs[i] = history.nowUs();
        }));
      }
      const firstWriteUs = writtenUs.find((t) => t !== undefined) ?? -1;
      const lastWriteUs = writtenUs.reduce((a, t) => (t !== undefined && t > a ? t : a), -1);
      const pending = prepared.map(({ spec }, i) => {
        const op = history.invoke(spec, writtenUs[i] ?? history.nowUs());
        return answers[i].then((res) => history.complete(op, outcomeOf(spec, res)));
      });
      const ops = await Promise.all(pending);
      return { ops, releaseSkewMs: firstWriteUs < 0 ? 0 : (lastWriteUs - firstWriteUs) / 1000, connectMs };
    },

    steady({ durationMs, connectionsPerInstance, make }) {
      return runSteadyLoad<CallSpec>({
        targets: Array.from({ length: cluster.size }, (_, i) => ({ instance: i, url: cluster.baseUrl(i) })),
        durationMs,
        connectionsPerTarget: connectionsPerInstance,
        nowUs: () => history.nowUs(),
        timeoutMs: defaultTimeoutMs,
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

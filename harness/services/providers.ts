// The channel providers of notification-fanout (CONTRACT §3, §4): three mock services, `email`, `sms` and `push`,
// each with one route, `POST /send {to, template, data}` → `202 {id, status:'accepted'}`, recorded in the ledger as a
// message whose channel is the provider. Beyond the faults every service has, a provider behaves as a real one does:
// some recipients are refused for good (422 invalid_recipient), some can never be delivered to (500 provider_error
// on every attempt), and a provider-wide token bucket over all callers answers 429 rate_limited with Retry-After.

import type { Ledger } from './ledger.ts';
import type { RouteResult, ServiceDef } from './request-flow.ts';
import { idMaker, invalid, isObject, nonEmptyString, retryAfterHeaders } from './responses.ts';
import { PROVIDER_CHANNELS, type ProviderChannel, type ProvidersControl, type ProvidersOptions, type RateLimit } from './types.ts';

/**
 * A token bucket refilled continuously at `perSecond`, at most `burst` tokens, full when made. `take` spends a
 * token, or says how long until the next one (whole ms, rounded up, ≥ 1: waiting that long finds one, unless
 * another caller took it first).
 */
export class TokenBucket {
  private tokens: number;
  private atMs: number;
  readonly burst: number;

  constructor(readonly limit: RateLimit, private readonly nowMs: () => number) {
    this.burst = limit.burst ?? Math.max(1, limit.perSecond);
    this.tokens = this.burst;
    this.atMs = nowMs();
  }

  take(): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.atMs) * this.limit.perSecond) / 1000);
    this.atMs = now;
    // The tolerance absorbs float error: a caller that waited the ms it was told finds its token.
    if (this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1);
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.limit.perSecond)) };
  }
}

export function validateRateLimit(what: string, limit: RateLimit): void {
  if (!(typeof limit.perSecond === 'number' && Number.isFinite(limit.perSecond) && limit.perSecond > 0)) throw new Error(`${what}: perSecond must be a number > 0, got ${limit.perSecond}`);
  if (limit.burst !== undefined && !(Number.isInteger(limit.burst) && limit.burst >= 1)) throw new Error(`${what}: burst must be a whole number ≥ 1, got ${limit.burst}`);
}

export function createProviders(ledger: Ledger, options: ProvidersOptions = {}): { defs: ServiceDef[]; control: ProvidersControl } {
  const invalidRecipients = new Set(options.invalidRecipients ?? []);
  const poisonRecipients = new Set(options.poisonRecipients ?? []);
  const nowMs = () => ledger.nowUs() / 1000;
  const buckets = new Map<ProviderChannel, TokenBucket>();

  const control: ProvidersControl = {
    setRateLimit(channel, limit) {
      if (!PROVIDER_CHANNELS.includes(channel)) throw new Error(`no provider ${channel}; the providers are ${PROVIDER_CHANNELS.join(', ')}`);
      if (!limit) {
        buckets.delete(channel);
        return;
      }
      validateRateLimit(`${channel} rate limit`, limit);
      buckets.set(channel, new TokenBucket({ ...limit }, nowMs));
    },
    rateLimit: (channel) => {
      const b = buckets.get(channel);
      return b ? { ...b.limit } : null;
    },
  };
  for (const [channel, limit] of Object.entries(options.rateLimits ?? {})) if (limit) control.setRateLimit(channel as ProviderChannel, limit);

  const defs = PROVIDER_CHANNELS.map((channel): ServiceDef => {
    const messageId = idMaker(channel);
    return {
      name: channel,
      routes: [
        {
          method: 'POST',
          pattern: '/send',
          mutating: true,
          // Runs after the idempotency lookup (a replay never gets here), in the order a provider decides.
          handle({ body, instance, key, attempt }): RouteResult {
            if (!isObject(body)) return invalid('expected a JSON body {to, template, data}');
            if (!nonEmptyString(body.to)) return invalid('to must be a non-empty string');
            if (!nonEmptyString(body.template)) return invalid('template must be a non-empty string');
            if (body.data !== undefined && !isObject(body.data)) return invalid('data must be an object');
            // Deterministic refusals, not stored under the key (every attempt gets the same answer anyway).
            if (invalidRecipients.has(body.to)) return { status: 422, body: { code: 'invalid_recipient', message: `${channel}: ${body.to} cannot receive messages (final)` }, executed: false };
            if (poisonRecipients.has(body.to)) return { status: 500, body: { code: 'provider_error', message: `${channel}: delivery to ${body.to} failed (nothing was sent)` }, executed: false };
            // The provider-wide limit gates what would be accepted: only a send that gets through spends a token.
            const taken = buckets.get(channel)?.take() ?? { ok: true };
            if (!taken.ok) {
              attempt.retryAfterMs = taken.retryAfterMs;
              return {
                status: 429,
                body: { code: 'rate_limited', message: `${channel} is at its rate limit for every caller; retry after ${taken.retryAfterMs} ms (nothing was sent)`, retryAfterMs: taken.retryAfterMs },
                headers: retryAfterHeaders(taken.retryAfterMs),
                executed: false,
              };
            }
            const m = ledger.addMessage({
              id: messageId(),
              service: channel,
              channel,
              to: body.to,
              template: body.template,
              data: body.data ?? {},
              key,
              instance,
              atUs: ledger.nowUs(),
              attempt: attempt.seq,
            });
            return { status: 202, body: { id: m.id, status: 'accepted' } };
          },
        },
      ],
    };
  });
  return { defs, control };
}

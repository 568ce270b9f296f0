// The payment provider the harness plays: it signs every delivery over the exact bytes it sends, redelivers on
// 5xx, timeouts and dropped connections with exponential backoff (compressed to the run's time scale, bounded
// attempts, each to the next instance as a load balancer would), and stops at the first 2xx or 4xx. Every attempt
// is one history op (f `deliver`). It also runs payment plans and sends what an attacker sends (one attempt each).

import type { CallSpec, ScenarioContext } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import type { Rng } from '../../../harness/seed.ts';
import { deliver, readSubscriptions, SIGNATURE_HEADER, type DeliveryArgs, type DeliveryKind } from '../operations.ts';
import { signatureHeader } from './signing.ts';
import { encodeEvent, type WebhookEvent } from './payloads.ts';
import type { PaymentPlan } from './plans.ts';

export interface ProviderOptions {
  /** How long the provider waits for an answer before it counts the attempt as failed (and redelivers). */
  timeoutMs: number;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** Backoff before attempt n+1: min(cap, base · 2^(n−1)), times a seeded factor in [0.5, 1). */
  backoffBaseMs: number;
  backoffCapMs: number;
}

/** One delivery: the same bytes on every attempt. */
export interface Delivery {
  kind: DeliveryKind;
  variant: string;
  paymentId: string;
  idempotencyKey: string;
  eventStatus: string;
  amount?: unknown;
  userId?: unknown;
  rawBody: string;
  encoding?: string;
  /** `fresh`: signed with the webhook secret at each attempt; a string: this header exactly; null: unsigned. */
  signature: 'fresh' | string | null;
  /** Whether the provider redelivers it (the provider's own deliveries); an attacker sends once. */
  retry: boolean;
  tampered?: { field: string; value: unknown };
}

export interface DeliveryResult {
  id: string;
  delivery: Delivery;
  ops: Op[];
  /** The last attempt. */
  last: Op;
  /** Ended with a 2xx. */
  acknowledged: boolean;
}

export const isRetryable = (op: Op) => op.type === 'info' || (op.type === 'fail' && op.code === 'UNAVAILABLE');

export class Provider {
  readonly stats = { deliveries: 0, attempts: 0, redeliveries: 0, gaveUp: 0 };
  private readonly bodies = new Map<string, { rawBody: string; encoding: string }>();

  constructor(
    private readonly ctx: ScenarioContext,
    private readonly o: ProviderOptions,
    private readonly rng: Rng,
  ) {}

  /** A provider event as a delivery; every delivery of one event carries the same bytes. */
  eventDelivery(e: WebhookEvent, kind: DeliveryKind, variant: string): Delivery {
    let body = this.bodies.get(e.idempotencyKey);
    if (!body) {
      body = encodeEvent(this.rng.fork(`body:${e.idempotencyKey}`), e);
      this.bodies.set(e.idempotencyKey, body);
    }
    return { kind, variant, paymentId: e.paymentId, idempotencyKey: e.idempotencyKey, eventStatus: e.status, amount: e.amount, userId: e.userId, rawBody: body.rawBody, encoding: body.encoding, signature: 'fresh', retry: true };
  }

  private spec(d: Delivery, id: string, attempt: number, instance: number, phase: string): CallSpec {
    const header = d.signature === 'fresh' ? signatureHeader(this.ctx.webhookSecret, d.rawBody) : d.signature;
    const args: DeliveryArgs = {
      delivery: id,
      attempt,
      kind: d.kind,
      variant: d.variant,
      paymentId: d.paymentId,
      idempotencyKey: d.idempotencyKey,
      eventStatus: d.eventStatus,
      ...(d.amount !== undefined ? { amount: d.amount } : {}),
      ...(d.userId !== undefined ? { userId: d.userId } : {}),
      rawBody: d.rawBody,
      ...(header !== null ? { signature: header } : {}),
      ...(d.tampered ? { tampered: d.tampered } : {}),
      ...(d.encoding ? { encoding: d.encoding } : {}),
    };
    const process = d.kind === 'forged' || d.kind === 'stale' ? 'attacker' : 'provider';
    return deliver(process, instance, args, header !== null ? { [SIGNATURE_HEADER]: header } : {}, phase, this.o.timeoutMs);
  }

  private backoffMs(id: string, attempt: number): number {
    const r = this.rng.fork(`backoff:${id}:${attempt}`).next();
    return Math.min(this.o.backoffCapMs, this.o.backoffBaseMs * 2 ** (attempt - 1)) * (0.5 + r / 2);
  }

  /** Attempt 2, 3 ... after the first op, each to the next instance, until a 2xx/4xx or the attempts run out. */
  private async continueChain(d: Delivery, id: string, first: Op, phase: string): Promise<DeliveryResult> {
    const ops = [first];
    let op = first;
    let instance = first.instance;
    this.stats.deliveries++;
    this.stats.attempts++;
    for (let attempt = 2; d.retry && isRetryable(op) && attempt <= this.o.maxAttempts && !this.ctx.signal.aborted; attempt++) {
      await this.ctx.sleep(this.backoffMs(id, attempt - 1));
      instance = (instance + 1) % this.ctx.cluster.size;
      op = await this.ctx.client.call(this.spec(d, id, attempt, instance, phase));
      ops.push(op);
      this.stats.attempts++;
      this.stats.redeliveries++;
    }
    if (isRetryable(op)) this.stats.gaveUp++;
    return { id, delivery: d, ops, last: op, acknowledged: op.type === 'ok' };
  }

  /** One delivery, redelivered as needed. */
  async deliver(d: Delivery, id: string, instance: number, phase: string): Promise<DeliveryResult> {
    const first = await this.ctx.client.call(this.spec(d, id, 1, instance, phase));
    return this.continueChain(d, id, first, phase);
  }

  /** Several deliveries released at the same instant (a barrier burst), then each redelivered on its own. */
  async deliverTogether(items: { d: Delivery; id: string; instance: number }[], phase: string): Promise<DeliveryResult[]> {
    const { ops } = await this.ctx.client.burst(items.map((x) => this.spec(x.d, x.id, 1, x.instance, phase)));
    return Promise.all(items.map((x, i) => this.continueChain(x.d, x.id, ops[i], phase)));
  }

  /** Run one payment's plan; instance choice and delivery ids are local to the plan, so interleaving never changes them. */
  async runPlan(plan: PaymentPlan, index: number, phase: string): Promise<DeliveryResult[]> {
    const size = this.ctx.cluster.size;
    const prng = this.rng.fork(`plan:${plan.paymentId}`);
    let inst = prng.int(0, size - 1);
    const nextInstance = () => inst++ % size;
    let n = 0;
    const id = () => `p${index + 1}.${++n}`;
    const seen = new Set<number>();
    const kindOf = (event: number): DeliveryKind => (seen.has(event) ? 'duplicate' : (seen.add(event), 'valid'));
    const results: DeliveryResult[] = [];
    for (const step of plan.steps) {
      if (this.ctx.signal.aborted) break;
      if (step.do === 'emit') {
        const e = plan.events[step.event];
        this.ctx.services!.payments.setPayment({ paymentId: plan.paymentId, status: e.status, amount: plan.amount, userId: plan.userId });
      } else if (step.do === 'read') {
        await this.ctx.client.call(readSubscriptions('reader', nextInstance(), plan.paymentId, phase));
      } else if (step.do === 'deliver-together') {
        const items = step.events.map((ev) => ({ d: this.eventDelivery(plan.events[ev], kindOf(ev), 'racing'), id: id(), instance: nextInstance() }));
        results.push(...(await this.deliverTogether(items, phase)));
      } else {
        const e = plan.events[step.event];
        if (step.mode === 'concurrent') {
          const copies = Math.max(2, step.copies);
          const first = nextInstance();
          const items = Array.from({ length: copies }, (_, k) => ({ d: this.eventDelivery(e, kindOf(step.event), step.variant ?? 'concurrent'), id: id(), instance: (first + k) % size }));
          inst = first + copies;
          results.push(...(await this.deliverTogether(items, phase)));
        } else {
          results.push(await this.deliver(this.eventDelivery(e, kindOf(step.event), step.variant ?? 'first'), id(), nextInstance(), phase));
          if (step.mode === 'sequential') {
            const again = prng.int(1, 2);
            for (let k = 0; k < again; k++) results.push(await this.deliver(this.eventDelivery(e, 'duplicate', 'sequential'), id(), nextInstance(), phase));
          }
        }
      }
    }
    return results;
  }

  /** Run plans with at most `streams` payments in progress at once. */
  async runPlans(plans: PaymentPlan[], streams: number, phase: string, offset = 0): Promise<DeliveryResult[]> {
    const out: DeliveryResult[][] = [];
    let next = 0;
    const worker = async () => {
      while (next < plans.length && !this.ctx.signal.aborted) {
        const i = next++;
        out[i] = await this.runPlan(plans[i], offset + i, phase);
      }
    };
    await Promise.all(Array.from({ length: Math.min(streams, plans.length) }, worker));
    return out.flat();
  }

  /** Figures for the scenario's metrics. */
  report(workloadMs: number): Record<string, number> {
    const s = this.stats;
    return {
      deliveries: s.deliveries,
      deliveryAttempts: s.attempts,
      redeliveries: s.redeliveries,
      deliveriesGivenUp: s.gaveUp,
      deliveryRatePerS: workloadMs > 0 ? Math.round((s.attempts / workloadMs) * 10000) / 10 : 0,
    };
  }
}

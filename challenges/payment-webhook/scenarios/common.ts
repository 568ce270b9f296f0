// What the webhook scenarios share: the provider's settings per profile, waiting until the system is quiet (ledger,
// reads and dead letters unchanged; a longer wait when a successful payment is not yet active or confirmed), and the
// final reads: every payment the run named, each from one instance in turn, and the dead-letter list from every one.

import type { ScenarioContext } from '../../../harness/scenario.ts';
import type { ServicesOptions } from '../../../harness/services/types.ts';
import { httpCall } from '../../../harness/generator/http-client.ts';
import { readDeadLetters, readSubscriptions } from '../operations.ts';
import { CONFIRMATION_TEMPLATE } from '../checkers/notification-exactly-once.ts';
import type { ProviderOptions } from '../provider/provider.ts';
import { runLimited } from '../../../harness/generator/run-limited.ts';

export interface WebhookFinal {
  paymentIds: string[];
  /** The quiet wait ended because nothing changed (not because it hit its bound). */
  quiet: boolean;
}

/** Redelivery: 8 attempts, 40 ms doubling to 640 ms (≈ 2.5 s in all): a real provider's hours, compressed. */
export const PROVIDER: ProviderOptions = { timeoutMs: 8_000, maxAttempts: 8, backoffBaseMs: 40, backoffCapMs: 640 };

/**
 * A quiet period once everything expected is there. While something is missing (a successful payment not yet active,
 * an active one not yet confirmed) silence does not end the wait: the published bound `maxMs` does (CONTRACT §8).
 */
export const QUIET = { fastMs: 400, maxMs: 10_000 };

export function servicesFor(extra: ServicesOptions = {}): ServicesOptions {
  return { settle: { quietMs: 200, maxMs: QUIET.maxMs }, ...extra };
}


/** Every payment id the run named (deliveries and mid-run reads), in first-seen order. */
export function paymentIdsOf(ctx: ScenarioContext): string[] {
  const ids = new Set<string>();
  for (const op of ctx.history()) if ((op.f === 'deliver' || op.f === 'read') && typeof op.args.paymentId === 'string') ids.add(op.args.paymentId);
  return [...ids];
}

/** Wait for quiet, then read every payment (one instance each, in turn) and the dead letters (every instance). */
export async function webhookFinalReads(ctx: ScenarioContext): Promise<WebhookFinal> {
  const paymentIds = paymentIdsOf(ctx);
  const quiet = await settle(ctx, paymentIds);
  const n = ctx.cluster.size;
  await runLimited(
    paymentIds.map((id, k) => () => ctx.client.call(readSubscriptions('final-read', k % n, id, 'final'))),
    16,
  );
  await Promise.all(Array.from({ length: n }, (_, i) => ctx.client.call(readDeadLetters('final-read', i, 'final'))));
  return { paymentIds, quiet };
}

/**
 * CONTRACT §8 quiescence, with the candidate's own reads in the probe (not recorded in the history). Quiet for
 * QUIET.fastMs is enough once every successful payment reads active and each active one has a confirmation;
 * otherwise the wait goes on (an outbox polled every second, a sweeper backing off, are silent between tries) until
 * it is complete and quiet, or the published bound QUIET.maxMs ran out.
 */
async function settle(ctx: ScenarioContext, paymentIds: string[]): Promise<boolean> {
  const services = ctx.services!;
  const n = ctx.cluster.size;
  let last: { id: string; status: number; body: string }[] = [];
  const probe = async () => {
    last = await runLimited(
      paymentIds.map((id, k) => async () => {
        const res = await httpCall(ctx.cluster.target(k % n), readSubscriptions('settle', k % n, id, 'settle').request, 3_000);
        return { id, status: res.status, body: res.bodyText };
      }),
      8,
    );
    const dl = await httpCall(ctx.cluster.target(0), readDeadLetters('settle', 0, 'settle').request, 3_000);
    return [last, dl.status, dl.bodyText];
  };
  const complete = () => {
    const confirmed = new Set(services.ledger.messages.filter((m) => m.template === CONFIRMATION_TEMPLATE).map((m) => String((m.data as { paymentId?: unknown })?.paymentId)));
    return last.every((r) => {
      let subs: { status?: unknown }[] = [];
      try {
        subs = r.status === 200 ? JSON.parse(r.body) : [];
      } catch {
        return false;
      }
      const active = Array.isArray(subs) && subs.some((s) => s && s.status === 'active');
      const succeeded = services.payments.getPayment(r.id)?.status === 'success';
      return (!succeeded || active) && (!active || confirmed.has(r.id));
    });
  };
  const started = Date.now();
  let result = await services.waitQuiet({ quietMs: QUIET.fastMs, maxMs: QUIET.maxMs, probe });
  let said = false;
  while (!complete() && Date.now() - started < QUIET.maxMs) {
    if (!said) ctx.progress('waiting for late processing or confirmations (silence is not completion)');
    said = true;
    result = await services.waitQuiet({ quietMs: QUIET.fastMs, maxMs: Math.max(0, QUIET.maxMs - (Date.now() - started)), probe });
  }
  ctx.metric('finalSettleMs', Date.now() - started);
  return result.quiet && complete();
}

// The mock payment gateway (CONTRACT §4): charges (with seeded card declines), full refunds, charge lookups by id
// or idempotency key, and the payment table behind `GET /payments/:paymentId` that the webhook provider controls.

import type { Rng } from '../seed.ts';
import type { Ledger } from './ledger.ts';
import type { RouteResult, ServiceDef } from './request-flow.ts';
import { seededChance } from './fault-schedule.ts';
import { idMaker, invalid, isObject, nonEmptyString, notFound, positiveInteger, refused } from './responses.ts';
import type { ChargeRecord, DeclineRule, PaymentRecord } from './types.ts';

export interface PaymentsControl {
  setPayment(payment: PaymentRecord): void;
  getPayment(paymentId: string): PaymentRecord | undefined;
  decline(rule: DeclineRule): void;
}

export function createPayments(ledger: Ledger, rng: Rng, declines: DeclineRule[] = []): { def: ServiceDef; control: PaymentsControl } {
  const chargeId = idMaker('ch');
  const refundId = idMaker('re');
  const rules = [...declines];
  const byId = new Map<string, ChargeRecord>();
  const refundOf = new Map<string, string>();

  const declined = (customerId: string) =>
    rules.some((r) => r.customers?.includes(customerId) || (r.probability !== undefined && seededChance(rng, `decline|${customerId}`) < r.probability));

  const view = (c: ChargeRecord) => ({
    id: c.id,
    status: c.status === 'succeeded' ? 'succeeded' : 'failed',
    amount: c.amount,
    currency: c.currency,
    customerId: c.customerId,
    refunded: refundOf.has(c.id),
    ...(refundOf.has(c.id) ? { refundId: refundOf.get(c.id) } : {}),
    ...(c.metadata !== undefined ? { metadata: c.metadata } : {}),
  });

  const def: ServiceDef = {
    name: 'payments',
    routes: [
      {
        method: 'POST',
        pattern: '/charges',
        mutating: true,
        handle({ body, instance, key, attempt }): RouteResult {
          if (!isObject(body)) return invalid('expected a JSON body {customerId, amount, currency}');
          if (!nonEmptyString(body.customerId)) return invalid('customerId must be a non-empty string');
          if (!positiveInteger(body.amount)) return invalid('amount must be a positive whole number (minor units, e.g. cents)');
          if (!nonEmptyString(body.currency)) return invalid('currency must be a non-empty string, e.g. "usd"');
          const charge = ledger.addCharge({
            id: chargeId(),
            key,
            customerId: body.customerId,
            amount: body.amount,
            currency: body.currency,
            status: declined(body.customerId) ? 'declined' : 'succeeded',
            instance,
            atUs: ledger.nowUs(),
            attempt: attempt.seq,
            ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
          });
          byId.set(charge.id, charge);
          if (charge.status === 'declined') return refused(402, 'card_declined', 'the card was declined', { chargeId: charge.id });
          return { status: 201, body: view(charge) };
        },
      },
      {
        method: 'GET',
        pattern: '/charges',
        mutating: false,
        handle({ query }): RouteResult {
          const key = query.get('idempotencyKey');
          const customer = query.get('customerId');
          const data = ledger.charges.filter((c) => (key === null || c.key === key) && (customer === null || c.customerId === customer)).map(view);
          return { status: 200, body: { data } };
        },
      },
      {
        method: 'GET',
        pattern: '/charges/:id',
        mutating: false,
        handle({ params }): RouteResult {
          const c = byId.get(params.id);
          return c ? { status: 200, body: view(c) } : notFound('charge_not_found', `no charge ${params.id}`);
        },
      },
      {
        method: 'POST',
        pattern: '/refunds',
        mutating: true,
        handle({ body, instance, key, attempt }): RouteResult {
          if (!isObject(body) || !nonEmptyString(body.chargeId)) return invalid('expected a JSON body {chargeId}');
          const charge = byId.get(body.chargeId);
          if (!charge) return notFound('charge_not_found', `no charge ${body.chargeId}`);
          if (charge.status !== 'succeeded') return refused(409, 'charge_not_refundable', `charge ${charge.id} was declined; there is nothing to refund`);
          const existing = refundOf.get(charge.id);
          if (existing) return refused(409, 'already_refunded', `charge ${charge.id} was already refunded (${existing})`, { refundId: existing });
          const refund = ledger.addRefund({ id: refundId(), chargeId: charge.id, amount: charge.amount, currency: charge.currency, key, instance, atUs: ledger.nowUs(), attempt: attempt.seq });
          refundOf.set(charge.id, refund.id);
          return { status: 201, body: { id: refund.id, chargeId: charge.id, amount: refund.amount, currency: refund.currency, status: 'succeeded' } };
        },
      },
      {
        method: 'GET',
        pattern: '/payments/:paymentId',
        mutating: false,
        handle({ params }): RouteResult {
          const p = ledger.payments.get(params.paymentId);
          return p ? { status: 200, body: { ...p } } : notFound('payment_not_found', `no payment ${params.paymentId}`);
        },
      },
    ],
  };

  const control: PaymentsControl = {
    setPayment(p) {
      ledger.payments.set(p.paymentId, { paymentId: p.paymentId, status: p.status, amount: p.amount, userId: p.userId });
    },
    getPayment(id) {
      const p = ledger.payments.get(id);
      return p && { ...p };
    },
    decline(rule) {
      rules.push(rule);
    },
  };
  return { def, control };
}

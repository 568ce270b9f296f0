// Shared by the subscription references (not a reference itself: self-test skips `_`-prefixed entries): the parts
// of a purchase that are not the strategy — the request's check, the two reads of a purchase row and the answer made
// from it, the confirmation message, which database errors are transient, and a background loop. How a purchase is
// driven, retried and recovered stays in each reference.
import type { AppContext, Purchase, SubscriptionService } from 'gauntlet';
import type { Pool } from 'pg';

/** The columns of `purchases` every reference has (states, lease and refund columns differ between them). */
export interface PurchaseRow {
  request_id: string;
  user_id: string;
  product_id: string;
  subscription_id: string;
  amount: number | null;
  charge_id: string | null;
}

export const codeError = (code: string, message: string) => Object.assign(new Error(message), { code });
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Database errors worth another try: no connection to be had, a connection lost, a serialization conflict. */
const TRANSIENT_DB_CODES = new Set(['53300', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '40001', '40P01']);
const TRANSIENT_DB_TEXT = /ECONNRESET|ECONNREFUSED|EPIPE|Connection terminated|connection slots|too many clients|timeout exceeded when trying to connect|server closed the connection/i;
export const transientDb = (err: unknown) => TRANSIENT_DB_CODES.has(String((err as { code?: unknown })?.code)) || TRANSIENT_DB_TEXT.test(String((err as Error)?.message));

type Request = Parameters<SubscriptionService['createSubscriptionWithRetry']>[0];

/** The request's ids, or an error when one is missing. */
export function checkRequest(req: Request): Request {
  const { requestId, userId, productId } = req ?? ({} as Request);
  if (![requestId, userId, productId].every((v) => typeof v === 'string' && v.length > 0)) throw new Error('requestId, userId and productId must be non-empty strings');
  return { requestId, userId, productId };
}

export async function loadPurchase<R extends PurchaseRow>(pg: Pool, requestId: string): Promise<R | null> {
  return (await pg.query<R>('SELECT * FROM purchases WHERE request_id = $1', [requestId])).rows[0] ?? null;
}

export const toPurchase = (row: PurchaseRow): Purchase => ({
  id: row.subscription_id,
  requestId: row.request_id,
  userId: row.user_id,
  productId: row.product_id,
  status: 'active',
  chargeId: row.charge_id!,
  amount: row.amount!,
});

/** getSubscription's answer: the purchase once active, else null. */
export async function activePurchase(pg: Pool, requestId: string): Promise<Purchase | null> {
  const r = await pg.query<PurchaseRow>(`SELECT * FROM purchases WHERE request_id = $1 AND state = 'active'`, [requestId]);
  return r.rows[0] ? toPurchase(r.rows[0]) : null;
}

/** The confirmation a purchase sends once active (stored in its outbox row in the same transaction). */
export const confirmation = (row: PurchaseRow) => ({ channel: 'email', to: row.user_id, template: 'subscription-created', data: { requestId: row.request_id } });

/** A background loop (sweep, outbox): every `ms` ± 25 %, never overlapping itself, never dying of an error. */
export function every(ctx: AppContext, ms: number, what: string, stopped: () => boolean, fn: () => Promise<void>): void {
  const tick = async () => {
    if (stopped()) return;
    try {
      await fn();
    } catch (err) {
      ctx.log(`${what} failed`, { error: (err as Error).message });
    }
    if (!stopped()) setTimeout(tick, ms * (0.75 + Math.random() / 2));
  };
  setTimeout(tick, Math.random() * ms);
}

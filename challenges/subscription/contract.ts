// subscription's contract as candidates write against it (CONTRACT §3–§4): the purchase, the service a module
// returns and the error classes whose codes mean "no". Reaches candidates as part of the `gauntlet` module and the
// starter kit.

import { GauntletCodeError } from '../../harness/contract-types.ts';

export interface Purchase { id: string; requestId: string; userId: string; productId: string; status: 'active'; chargeId: string; amount: number }
export interface SubscriptionService {
  createSubscriptionWithRetry(req: { requestId: string; userId: string; productId: string }): Promise<Purchase>;
  getSubscription(requestId: string): Promise<Purchase | null>;
}

export class OutOfStockError extends GauntletCodeError {
  constructor(message = 'out of stock') { super('OUT_OF_STOCK', message); }
}
export class PaymentDeclinedError extends GauntletCodeError {
  constructor(message = 'payment declined') { super('PAYMENT_DECLINED', message); }
}
export class PurchaseFailedError extends GauntletCodeError {
  constructor(message = 'purchase failed') { super('PURCHASE_FAILED', message); }
}

// The `gauntlet` module as a submission sees it: error classes that carry the contract's codes, and the
// contract's types. Submissions may also reject with any Error that has a `code` property (CONTRACT §3).

export class GauntletCodeError extends Error {
  constructor(readonly code: string, message?: string) {
    super(message ?? code);
    this.name = new.target.name;
  }
}
export class SeatTakenError extends GauntletCodeError {
  constructor(message = 'seat is taken') { super('SEAT_TAKEN', message); }
}
export class SeatNotFoundError extends GauntletCodeError {
  constructor(message = 'seat not found') { super('SEAT_NOT_FOUND', message); }
}
export class HoldExpiredError extends GauntletCodeError {
  constructor(message = 'hold expired') { super('HOLD_EXPIRED', message); }
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

export type * from './contract-types.ts';

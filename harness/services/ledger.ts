// The mock services' ledgers, kept in the harness process where candidate code cannot reach them: every
// request attempt and every effect (charges, refunds, messages, reservation transitions), on the history's clock.

import type {
  AttemptRecord,
  ChargeRecord,
  LedgerReader,
  LedgerSnapshot,
  MessageRecord,
  PaymentRecord,
  ProductSpec,
  RefundRecord,
  ReservationRecord,
  StockLevel,
} from './types.ts';

export class Ledger implements LedgerReader {
  readonly attempts: AttemptRecord[] = [];
  readonly charges: ChargeRecord[] = [];
  readonly refunds: RefundRecord[] = [];
  readonly messages: MessageRecord[] = [];
  readonly reservations: ReservationRecord[] = [];
  readonly payments = new Map<string, PaymentRecord>();
  readonly products: Record<string, ProductSpec>;
  private changes = 0;

  constructor(readonly nowUs: () => number, products: Record<string, ProductSpec> = {}) {
    this.products = structuredClone(products);
  }

  version(): number {
    return this.changes;
  }

  /** Count one effect (quiescence detection watches this). */
  changed(): void {
    this.changes++;
  }

  beginAttempt(a: Omit<AttemptRecord, 'seq' | 'endUs' | 'status' | 'fault' | 'executed' | 'replayed' | 'outcome'>): AttemptRecord {
    const record: AttemptRecord = { seq: this.attempts.length + 1, ...a, endUs: -1, status: 0, fault: 'none', executed: false, replayed: false, outcome: 'pending' };
    this.attempts.push(record);
    return record;
  }

  addCharge(c: ChargeRecord): ChargeRecord {
    this.charges.push(c);
    this.changed();
    return c;
  }

  addRefund(r: RefundRecord): RefundRecord {
    this.refunds.push(r);
    this.changed();
    return r;
  }

  addMessage(m: MessageRecord): MessageRecord {
    this.messages.push(m);
    this.changed();
    return m;
  }

  addReservation(r: ReservationRecord): ReservationRecord {
    this.reservations.push(r);
    this.changed();
    return r;
  }

  stockOf(productId: string): StockLevel | undefined {
    const spec = this.products[productId];
    if (!spec) return undefined;
    let reserved = 0;
    let committed = 0;
    for (const r of this.reservations) {
      if (r.productId !== productId) continue;
      if (r.state === 'reserved') reserved += r.quantity;
      else if (r.state === 'committed') committed += r.quantity;
    }
    return { stock: spec.stock, reserved, committed, available: spec.stock - reserved - committed };
  }

  snapshot(): LedgerSnapshot {
    const stock: Record<string, StockLevel> = {};
    for (const id of Object.keys(this.products)) stock[id] = this.stockOf(id)!;
    return structuredClone({
      version: this.changes,
      attempts: this.attempts,
      charges: this.charges,
      refunds: this.refunds,
      messages: this.messages,
      reservations: this.reservations,
      payments: [...this.payments.values()],
      stock,
    });
  }
}

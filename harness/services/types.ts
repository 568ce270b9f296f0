// Public types of the mock services (CONTRACT §4): options a scenario declares, the handle it drives, the fault
// rates, and the ledger records that checkers read. Everything in a LedgerSnapshot is plain JSON.

import type { FaultWindow } from '../types.ts';

/** The channel providers (notification-fanout): one mock service per channel, each with `POST /send` (providers.ts). */
export type ProviderChannel = 'email' | 'sms' | 'push';
export const PROVIDER_CHANNELS: readonly ProviderChannel[] = ['email', 'sms', 'push'];

export type ServiceName = 'payments' | 'notifications' | 'inventory' | ProviderChannel;
export const SERVICE_NAMES: readonly ServiceName[] = ['payments', 'notifications', 'inventory', ...PROVIDER_CHANNELS];

/** Base URLs one instance is given, one per service (`ctx.services.payments` ...). Each instance has its own ports: that is how calls are attributed. */
export type ServiceUrls = Record<ServiceName, string>;

/** The environment variable that carries a service's base URL in an instance: `PAYMENTS_URL`, `EMAIL_URL` ... (CONTRACT §6). */
export type ServiceEnvName = `${Uppercase<ServiceName>}_URL`;

export function serviceEnvName(name: ServiceName): ServiceEnvName {
  return `${name.toUpperCase()}_URL` as ServiceEnvName;
}

/** Every service's variable, set to the instance's URL, or to '' for all of them when the scenario has no services. */
export function serviceEnv(urls?: ServiceUrls): Record<ServiceEnvName, string> {
  return Object.fromEntries(SERVICE_NAMES.map((name) => [serviceEnvName(name), urls?.[name] ?? ''])) as Record<ServiceEnvName, string>;
}

/** The module context's `services` read back from those variables ('' for an unset one). */
export function serviceUrlsFromEnv(env: Record<string, string | undefined>): ServiceUrls {
  return Object.fromEntries(SERVICE_NAMES.map((name) => [name, env[serviceEnvName(name)] ?? ''])) as ServiceUrls;
}

/** What an injected fault did to one request attempt. `outage` answers 503 or resets, per the outage's mode. */
export type FaultKind = 'error-500' | 'error-503' | 'rate-limit-429' | 'reset' | 'hold' | 'ghost' | 'outage';

/**
 * Per-request fault probabilities. The six kinds are exclusive (their sum must be ≤ 1; the rest is answered normally);
 * latency is drawn independently and adds to whatever else happens. 500, 503, 429 and reset answer WITHOUT executing
 * (nothing is stored under the idempotency key); hold and ghost execute and store the result, then hold the response
 * (until `holdMs`, a heal, or the client closing) or drop the connection without answering.
 */
export interface FaultRates {
  error500?: number;
  error503?: number;
  rateLimit429?: number;
  reset?: number;
  hold?: number;
  ghost?: number;
  latency?: number;
  /** Added latency range, inclusive (default [50, 300]). */
  latencyMs?: [number, number];
  /** Retry-After range for 429, inclusive (default [200, 1000]); sent as `Retry-After` (s, rounded up) and `Retry-After-Ms`. */
  retryAfterMs?: [number, number];
  /** How long a held response is held; default: until healed or the client closes the connection. */
  holdMs?: number;
}

/** A service's rates, with optional per-route overrides merged field by field (`'POST /charges'`, `'POST /reservations/:id/commit'` ...). */
export interface ServiceFaults extends FaultRates {
  routes?: Record<string, FaultRates>;
}

export interface ProductSpec {
  stock: number;
  /** Unit price in minor units (cents). */
  price: number;
  /** Default `usd`. */
  currency?: string;
}

/** Which inventory commits fail for good (`409 reservation_expired`, final). Evaluated when the commit executes. */
export interface CommitFailureRule {
  products?: string[];
  reservationIds?: string[];
  /** Seeded per reservation (by its idempotency key, else its id). */
  probability?: number;
  /** Control API only (not serialisable). */
  match?(reservation: ReservationRecord): boolean;
}

export interface DeclineRule {
  /** Their cards are always declined (402 card_declined). */
  customers?: string[];
  /** Seeded per customer: a customer's card is declined every time, or never. */
  probability?: number;
}

export interface PaymentRecord {
  paymentId: string;
  status: 'success' | 'failed' | 'pending';
  amount: number;
  userId: string;
}

/** A provider-wide token bucket: at most `perSecond` accepted sends per second over every caller, `burst` at once. */
export interface RateLimit {
  /** Tokens added per second (> 0; fractions allowed: 0.5 is one send every 2 s). */
  perSecond: number;
  /** Bucket size, a whole number ≥ 1 (default: perSecond, at least 1). The bucket starts full. */
  burst?: number;
}

/** How the channel providers (email, sms, push) behave beyond the per-request faults. */
export interface ProvidersOptions {
  /** `to` addresses answered `422 {code:'invalid_recipient'}` every time (a bounced address, a dead push token): final. */
  invalidRecipients?: string[];
  /** `to` addresses answered `500 {code:'provider_error'}` on every attempt, never delivered: a delivery that can only be given up. */
  poisonRecipients?: string[];
  /** A token bucket per provider, over all instances; when empty, `429 {code:'rate_limited'}` with Retry-After. */
  rateLimits?: Partial<Record<ProviderChannel, RateLimit>>;
}

export interface ServicesOptions {
  /** Per-request faults active from the start (each opens a `service-faults` window). */
  faults?: Partial<Record<ServiceName, ServiceFaults>>;
  /** Inventory catalogue: stock and unit price per product. */
  products?: Record<string, ProductSpec>;
  /** An uncommitted, unreleased reservation expires after this long (default 30 000 ms; compress it for short runs). */
  reservationTtlMs?: number;
  commitFailures?: Omit<CommitFailureRule, 'match'>;
  declines?: DeclineRule;
  /** The payment table behind `GET /payments/:paymentId` (the webhook provider updates it as it goes). */
  payments?: PaymentRecord[];
  /** The channel providers' recipients that always fail, and their rate limits (providers.ts). */
  providers?: ProvidersOptions;
  /** Ports opened beyond the scenario's instances, for `cluster.startFresh()` (default 2). */
  spareInstances?: number;
  /** Quiescence before final reads: no ledger change and nothing in flight for `quietMs` (default 500), at most `maxMs` (default 10 000). */
  settle?: { quietMs?: number; maxMs?: number };
}

/** One request as the service saw it (every attempt, faulted or not). */
export interface AttemptRecord {
  seq: number;
  service: ServiceName;
  method: string;
  /** Path and query as sent. */
  path: string;
  /** The matched route id (`POST /charges`), or null for an unknown route. */
  route: string | null;
  instance: number;
  /** `Idempotency-Key` header, or null. */
  key: string | null;
  body: unknown;
  startUs: number;
  /** When the answer went out, the connection was dropped or the client gave up; -1 while pending. */
  endUs: number;
  /** HTTP status answered; 0 when none was (reset, ghost, held and abandoned). */
  status: number;
  /** Error `code` answered, when one was. */
  code?: string;
  /**
   * The injected fault, or `none`. A provider's own answers are not faults: its rate limit's 429 is `fault: 'none'`,
   * `status: 429`, `code: 'rate_limited'`, `executed: false`, with `retryAfterMs` (so is a poison recipient's 500,
   * `code: 'provider_error'`). An injected 429 is `fault: 'rate-limit-429'`.
   */
  fault: FaultKind | 'none';
  /** The call took effect here (or was a business answer stored under its key). */
  executed: boolean;
  /** Answered from the idempotency store. */
  replayed: boolean;
  /** The wait a 429 (injected, or a provider's rate limit) or an outage's 503 asked for: `Retry-After-Ms`. */
  retryAfterMs?: number;
  latencyMs?: number;
  outcome: 'pending' | 'answered' | 'reset' | 'dropped' | 'client-closed';
}

export interface ChargeRecord {
  id: string;
  key: string | null;
  customerId: string;
  amount: number;
  currency: string;
  status: 'succeeded' | 'declined';
  instance: number;
  atUs: number;
  attempt: number;
  metadata?: unknown;
}

export interface RefundRecord {
  id: string;
  chargeId: string;
  amount: number;
  currency: string;
  key: string | null;
  instance: number;
  atUs: number;
  attempt: number;
}

export interface MessageRecord {
  id: string;
  /** The service that accepted it: `notifications` (any channel), or the provider `email`, `sms` or `push` (then equal to `channel`). */
  service?: 'notifications' | ProviderChannel;
  channel: string;
  to: string;
  template: string;
  data: unknown;
  key: string | null;
  instance: number;
  atUs: number;
  attempt: number;
}

export type ReservationState = 'reserved' | 'committed' | 'released' | 'expired';

export interface ReservationTransition {
  state: ReservationState;
  atUs: number;
  /** -1 when the harness did it (TTL expiry). */
  instance: number;
  cause: 'reserve' | 'commit' | 'release' | 'ttl' | 'commit-refused';
  attempt?: number;
}

export interface ReservationRecord {
  id: string;
  productId: string;
  quantity: number;
  amount: number;
  currency: string;
  key: string | null;
  instance: number;
  atUs: number;
  expiresAtUs: number;
  state: ReservationState;
  transitions: ReservationTransition[];
  attempt: number;
}

export interface StockLevel {
  stock: number;
  reserved: number;
  committed: number;
  available: number;
}

/** Everything the services saw and did, as plain JSON: what `CheckInput.ledger` holds and the run folder keeps. */
export interface LedgerSnapshot {
  version: number;
  attempts: AttemptRecord[];
  charges: ChargeRecord[];
  refunds: RefundRecord[];
  messages: MessageRecord[];
  reservations: ReservationRecord[];
  payments: PaymentRecord[];
  stock: Record<string, StockLevel>;
}

export interface OutageOptions {
  /** `503` answers 503 {code:'service_unavailable'}; `reset` resets the connection. Default `503`. */
  mode?: '503' | 'reset';
  /** Heal by itself after this long; otherwise at the returned heal or `healAll()`. */
  durationMs?: number;
  /** Only these instances' calls fail (default: all). */
  instances?: number[];
  /** With mode `503`: also send Retry-After / Retry-After-Ms with this value (default: none, like most outages). */
  retryAfterMs?: number;
}

export interface FaultControl {
  /** Replace a service's per-request rates (null: none). Opens a `service-faults` window until replaced or healed. */
  set(service: ServiceName, faults: ServiceFaults | null): void;
  get(service: ServiceName): ServiceFaults | null;
  /** Every call to the service fails until healed; records a `service-outage` window. The returned heal is idempotent. */
  outage(service: ServiceName, options?: OutageOptions): () => Promise<void>;
  /** End outages, stop per-request faults, release held responses (they are answered): one service or all. */
  heal(service?: ServiceName): Promise<void>;
}

/** The channel providers at run time (`ctx.services.providers`). */
export interface ProvidersControl {
  /**
   * Switch a provider's rate limit on (or replace it) with a full bucket, or off with null. Applies to the next
   * sends; not a fault, so `healAll()` leaves it as it is.
   */
  setRateLimit(channel: ProviderChannel, limit: RateLimit | null): void;
  /** The provider's current limit, or null. */
  rateLimit(channel: ProviderChannel): RateLimit | null;
}

export interface QuietResult {
  quiet: boolean;
  waitedMs: number;
  version: number;
}

/** What a scenario gets in `ctx.services`. */
export interface MockServicesHandle {
  urlsFor(instance: number): ServiceUrls;
  readonly ledger: LedgerReader;
  readonly faults: FaultControl;
  /** Outage and per-request-fault windows (an open one has `endUs: Infinity`). */
  readonly windows: FaultWindow[];
  readonly payments: {
    /** Create or update a payment served by `GET /payments/:paymentId`. */
    setPayment(payment: PaymentRecord): void;
    getPayment(paymentId: string): PaymentRecord | undefined;
    /** Add a decline rule (applies to charges executed from now on). */
    decline(rule: DeclineRule): void;
  };
  readonly inventory: {
    stockOf(productId: string): StockLevel | undefined;
    /** Add a rule for commits that fail for good. */
    failCommits(rule: CommitFailureRule): void;
  };
  readonly providers: ProvidersControl;
  /** Heal every service fault (see FaultControl.heal). */
  healAll(): Promise<void>;
  /** Wait until no ledger change and nothing in flight for quietMs (and `probe()`, if given, returns the same JSON), at most maxMs. */
  waitQuiet(options?: { quietMs?: number; maxMs?: number; probe?: () => unknown }): Promise<QuietResult>;
}

export interface LedgerReader {
  /** Increases on every effect (charge, refund, message, reservation change); never on a mere attempt or replay. */
  version(): number;
  snapshot(): LedgerSnapshot;
  readonly attempts: readonly AttemptRecord[];
  readonly charges: readonly ChargeRecord[];
  readonly refunds: readonly RefundRecord[];
  readonly messages: readonly MessageRecord[];
  readonly reservations: readonly ReservationRecord[];
}

export interface MockServices extends MockServicesHandle {
  close(): Promise<void>;
}

/** What `ScenarioDef.services` may be: fixed options, or options built from the scenario's data and params. */
export type ServicesSpec = ServicesOptions | ((data: Record<string, unknown>, params: Record<string, number>) => ServicesOptions);

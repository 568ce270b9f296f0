// The contract's types (CONTRACT §2–§3), exactly as candidates write against them. `gauntlet init` copies
// them into a starter kit's local declaration file.

import type { Pool } from 'pg';
import type { Redis } from 'ioredis';

export type ScenarioData = Record<string, unknown>;

export interface AppContext {
  instance: number;
  databaseUrl: string;
  redisUrl: string;
  pg: Pool;
  redis: Redis;
  services: { payments: string; notifications: string; inventory: string };
  webhookSecret: string;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface SetupContext extends AppContext {
  scenario: ScenarioData;
}

export interface SeatReservation { seatId: string; userId: string; timestamp: Date | string }
export interface SeatService {
  reserveSeat(seatId: string, userId: string): Promise<SeatReservation>;
  getReservation(seatId: string): Promise<SeatReservation | null>;
  holdSeat?(seatId: string, userId: string, ttlMs: number): Promise<SeatReservation>;
  confirmHold?(seatId: string, userId: string): Promise<SeatReservation>;
  releaseSeat?(seatId: string, userId: string): Promise<void>;
}

export interface PaymentWebhook { paymentId: string; status: 'success' | 'failed' | 'pending'; amount: number; userId: string; idempotencyKey: string }
export interface Subscription { id: string; userId: string; paymentId: string; status: 'active' | 'pending' | 'failed'; amount: number }
export interface WebhookService {
  handlePaymentWebhook(req: { headers: Record<string, string>; rawBody: string }): Promise<{ status: number; body?: unknown }>;
  getSubscriptionsByPaymentId(paymentId: string): Promise<Subscription[]>;
  getDeadLetters(): Promise<{ idempotencyKey?: string; reason: string; rawBody: string }[]>;
}

export interface Purchase { id: string; requestId: string; userId: string; productId: string; status: 'active'; chargeId: string; amount: number }
export interface SubscriptionService {
  createSubscriptionWithRetry(req: { requestId: string; userId: string; productId: string }): Promise<Purchase>;
  getSubscription(requestId: string): Promise<Purchase | null>;
}

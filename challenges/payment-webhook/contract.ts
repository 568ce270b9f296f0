// payment-webhook's contract as candidates write against it (CONTRACT §3): the webhook's payload, the
// subscriptions it creates and the service a module returns. Reaches candidates as part of the `gauntlet` module
// and the starter kit.

export interface PaymentWebhook { paymentId: string; status: 'success' | 'failed' | 'pending'; amount: number; userId: string; idempotencyKey: string }
export interface Subscription { id: string; userId: string; paymentId: string; status: 'active' | 'pending' | 'failed'; amount: number }
export interface WebhookService {
  handlePaymentWebhook(req: { headers: Record<string, string>; rawBody: string }): Promise<{ status: number; body?: unknown }>;
  getSubscriptionsByPaymentId(paymentId: string): Promise<Subscription[]>;
  getDeadLetters(): Promise<{ idempotencyKey?: string; reason: string; rawBody: string }[]>;
}

// The stub `gauntlet init` writes for payment-webhook: a module that loads and type-checks against the contract and
// does nothing yet, so a candidate starts from the shape the harness expects.

export const starter = `// payment-webhook: duplicated, out-of-order and forged payment webhooks; exactly one subscription per payment.
// Contract: CONTRACT §3 "payment-webhook".
import type { AppContext, SetupContext, WebhookService } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<WebhookService> {
  return {
    async handlePaymentWebhook(req) {
      // Verify req.headers['gauntlet-signature'] over req.rawBody with ctx.webhookSecret first.
      return { status: 500, body: { error: 'not implemented' } };
    },
    async getSubscriptionsByPaymentId(paymentId) {
      return [];
    },
    async getDeadLetters() {
      return [];
    },
  };
}
`;

// The stub `gauntlet init` writes for subscription: a module that loads and type-checks against the contract and
// does nothing yet, so a candidate starts from the shape the harness expects.

export const starter = `// subscription: create a subscription while the payment gateway fails half the time.
// Contract: CONTRACT §3 "subscription" and §4 (mock services).
import type { AppContext, SetupContext, SubscriptionService } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<SubscriptionService> {
  return {
    async createSubscriptionWithRetry(req) {
      // ctx.services.inventory, ctx.services.payments, ctx.services.notifications are the base URLs.
      throw new Error('not implemented');
    },
    async getSubscription(requestId) {
      return null;
    },
  };
}
`;

// The stub `gauntlet init` writes for subscription-reads: a module that loads and type-checks against the contract
// and does nothing yet, so a candidate starts from the shape the harness expects.

export const starter = `// subscription-reads: serve subscription reads from a replica and a cache, fresh enough, even when either is down.
// Contract: CONTRACT §3 "subscription-reads"; bounds in the challenge README.
import type { AppContext, SetupContext, SubscriptionReadsService, ReadsScenario } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  const { users, stalenessMs } = ctx.scenario as unknown as ReadsScenario;
  // Create the schema on the primary (ctx.pg) and every user with its plan, status 'active', requestId 'initial'.
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<SubscriptionReadsService> {
  return {
    async changePlan(userId, plan, requestId) {
      // Commit on the primary (ctx.pg); keep the cache (ctx.redis) from serving the old state.
      throw new Error('not implemented');
    },
    async cancel(userId, requestId) {
      throw new Error('not implemented');
    },
    async getSubscription(userId, consistencyToken) {
      // From the cache or the replica (ctx.replica) when they are fresh enough, else from the primary.
      throw new Error('not implemented');
    },
  };
}
`;

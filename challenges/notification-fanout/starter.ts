// The stub `gauntlet init` writes for notification-fanout: a module that loads and type-checks against the contract
// and does nothing yet, so a candidate starts from the shape the harness expects.

export const starter = `// notification-fanout: fan subscription events out to email, SMS and push.
// Contract: CONTRACT §3 "notification-fanout" and §4 (the channel providers).
import type { AppContext, SetupContext, NotificationService, FanoutScenario } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  const { users, limits } = ctx.scenario as unknown as FanoutScenario;
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<NotificationService> {
  return {
    async publish(event) {
      // Accept the event durably, answer at once; deliver in the background through
      // ctx.services.email, ctx.services.sms and ctx.services.push.
      throw new Error('not implemented');
    },
    async setPreferences(userId, preferences) {
      throw new Error('not implemented');
    },
    async getDeadLetters() {
      return [];
    },
  };
}
`;

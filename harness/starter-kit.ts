// `gauntlet init <dir>`: a candidate starter kit — one stub per challenge written against the contract, the
// contract's types in a local declaration file (so `import type ... from 'gauntlet'` type-checks without
// installing anything), and a short README on how to grade it.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const SEAT = `// seat-reservation: 1000 users click "reserve" on the last seat at the same moment, on several instances.
// Contract: CONTRACT §3 "seat-reservation". Run: npx gauntlet grade . --challenge seat-reservation --profile quick
import type { AppContext, SetupContext, SeatService, SeatReservation } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  // Runs once per scenario before any instance starts: create your schema, load ctx.scenario.seats (string[]).
  const seats = ctx.scenario.seats as string[];
  void seats;
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<SeatService> {
  // Runs once per instance (a separate process). Memory is not shared between instances.
  return {
    async reserveSeat(seatId: string, userId: string): Promise<SeatReservation> {
      // Reject with an Error whose \`code\` is 'SEAT_TAKEN' or 'SEAT_NOT_FOUND' when you say no.
      throw Object.assign(new Error('not implemented'), { code: 'NOT_IMPLEMENTED' });
    },
    async getReservation(seatId: string): Promise<SeatReservation | null> {
      return null;
    },
  };
}
`;

const WEBHOOK = `// payment-webhook: duplicated, out-of-order and forged payment webhooks; exactly one subscription per payment.
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

const SUBSCRIPTION = `// subscription: create a subscription while the payment gateway fails half the time.
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

const README = `# My gauntlet submission

One module per challenge; each exports \`setup\` (optional), a default \`create(ctx)\` returning the service,
and \`close\` (optional). The types are in \`gauntlet.d.ts\` (\`import type ... from 'gauntlet'\`).

Grade it (from a clone of gauntlet, after \`npm install\` there):

    npx gauntlet grade /path/to/this/folder --profile quick        # practice: fast, explains failures
    npx gauntlet grade /path/to/this/folder                        # the standard grade
    npx gauntlet grade /path/to/this/folder --challenge seat-reservation --seed 7

You may import \`pg\`, \`ioredis\` and Node built-ins without installing them; anything else from your own
node_modules. TypeScript runs as it is, without a build step. A missing file means "not attempted".
Every run is stored under \`.gauntlet/runs/\`: the history of every call, each instance's log and the result.
`;

export function writeStarterKit(dir: string): string[] {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new UsageError(`${dir} is not empty`, 'choose a new folder for the starter kit');
  fs.mkdirSync(dir, { recursive: true });
  const types = fs.readFileSync(path.join(here, 'contract-types.ts'), 'utf8').replace(/^\/\/.*\n/gm, '').replace(/^import type .*\n/gm, '');
  const dts = `// The gauntlet contract's types (CONTRACT §2–§3), for \`import type ... from 'gauntlet'\`.\ndeclare module 'gauntlet' {\n  type Pool = import('pg').Pool;\n  type Redis = import('ioredis').Redis;\n${types.trim().split('\n').map((l) => '  ' + l).join('\n')}\n}\n`;
  const files: Record<string, string> = {
    'seat-reservation.ts': SEAT,
    'payment-webhook.ts': WEBHOOK,
    'subscription.ts': SUBSCRIPTION,
    'gauntlet.d.ts': dts,
    'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true } }, null, 2) + '\n',
    'README.md': README,
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return Object.keys(files);
}

// The mock notification service (CONTRACT §4): accepts messages on email, sms or push and records each one in the
// ledger with its idempotency key, so checks can count confirmations exactly.

import type { Ledger } from './ledger.ts';
import type { RouteResult, ServiceDef } from './request-flow.ts';
import { idMaker, invalid, isObject, nonEmptyString } from './responses.ts';

const CHANNELS = ['email', 'sms', 'push'];

export function createNotifications(ledger: Ledger): { def: ServiceDef } {
  const messageId = idMaker('msg');
  const def: ServiceDef = {
    name: 'notifications',
    routes: [
      {
        method: 'POST',
        pattern: '/messages',
        mutating: true,
        handle({ body, instance, key, attempt }): RouteResult {
          if (!isObject(body)) return invalid('expected a JSON body {channel, to, template, data}');
          if (!CHANNELS.includes(body.channel as string)) return invalid(`channel must be one of ${CHANNELS.join(', ')}`);
          if (!nonEmptyString(body.to)) return invalid('to must be a non-empty string');
          if (!nonEmptyString(body.template)) return invalid('template must be a non-empty string');
          if (body.data !== undefined && !isObject(body.data)) return invalid('data must be an object');
          const m = ledger.addMessage({
            id: messageId(),
            service: 'notifications',
            channel: body.channel as string,
            to: body.to,
            template: body.template,
            data: body.data ?? {},
            key,
            instance,
            atUs: ledger.nowUs(),
            attempt: attempt.seq,
          });
          return { status: 202, body: { id: m.id, status: 'queued' } };
        },
      },
    ],
  };
  return { def };
}

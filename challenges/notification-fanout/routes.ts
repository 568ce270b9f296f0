// The notification-fanout routes of CONTRACT §6, mapped onto the NotificationService methods for the module adapter.

import type { RouteTable } from '../../harness/instances/routes.ts';

export const routeTable: RouteTable = {
  codeStatus: {},
  routes: [
    {
      method: 'POST',
      path: '/notifications/events',
      call: 'publish',
      args: (r) => [{ eventId: r.body?.eventId, kind: r.body?.kind, userId: r.body?.userId, occurredAt: r.body?.occurredAt }],
      respond: () => ({ status: 202, body: { accepted: true } }),
    },
    { method: 'PUT', path: '/notifications/preferences/:userId', call: 'setPreferences', args: (r) => [r.params.userId, r.body?.preferences], respond: () => ({ status: 204 }) },
    { method: 'GET', path: '/notifications/dead-letters', call: 'getDeadLetters', args: () => [] },
  ],
};

// The subscription-reads routes of CONTRACT §6, mapped onto the SubscriptionReadsService methods for the module
// adapter. The consistency token of a read travels in the `Consistency-Token` header.

import type { RouteTable } from '../../harness/instances/routes.ts';

const token = (headers: Record<string, string>): string | undefined => headers['consistency-token'] || undefined;

export const routeTable: RouteTable = {
  codeStatus: {},
  routes: [
    { method: 'PUT', path: '/accounts/:userId/subscription', call: 'changePlan', args: (r) => [r.params.userId, r.body?.plan, r.body?.requestId] },
    { method: 'DELETE', path: '/accounts/:userId/subscription', call: 'cancel', args: (r) => [r.params.userId, r.body?.requestId] },
    { method: 'GET', path: '/accounts/:userId/subscription', call: 'getSubscription', args: (r) => [r.params.userId, token(r.headers)] },
    { method: 'GET', path: '/reads/metrics', call: 'metrics', args: () => [] },
  ],
};

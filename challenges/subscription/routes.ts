// The subscription routes of CONTRACT §6, mapped onto the SubscriptionService methods for the module adapter.
// Every contract code travels with 409 (docs/decisions.md: codes not listed otherwise are 409).

import type { RouteTable } from '../../harness/instances/routes.ts';

export const routeTable: RouteTable = {
  codeStatus: { OUT_OF_STOCK: 409, PAYMENT_DECLINED: 409, PURCHASE_FAILED: 409 },
  routes: [
    {
      method: 'POST',
      path: '/subscriptions',
      call: 'createSubscriptionWithRetry',
      args: (r) => [{ requestId: r.body?.requestId, userId: r.body?.userId, productId: r.body?.productId }],
    },
    { method: 'GET', path: '/subscriptions/:requestId', call: 'getSubscription', args: (r) => [r.params.requestId] },
  ],
};

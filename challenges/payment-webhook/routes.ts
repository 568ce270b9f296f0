// The payment-webhook routes of CONTRACT §6, mapped onto the WebhookService methods for the module adapter. The
// webhook hands the handler the raw bytes and lower-case headers, and answers with the {status, body} it returns.

import type { RouteTable } from '../../harness/instances/routes.ts';

/** A handler result the adapter can send: `{status: 100..599, body?}`; anything else is the handler's bug (500). */
export function webhookResponse(result: unknown): { status: number; body?: unknown } {
  const r = result as { status?: unknown; body?: unknown } | null | undefined;
  if (!r || typeof r !== 'object' || !Number.isInteger(r.status) || (r.status as number) < 100 || (r.status as number) > 599) {
    let shown: string;
    try {
      shown = JSON.stringify(result)?.slice(0, 120) ?? String(result);
    } catch {
      shown = String(result);
    }
    return { status: 500, body: { error: `handlePaymentWebhook must resolve to { status: <100..599>, body? }, it resolved to ${shown}` } };
  }
  const status = r.status as number;
  // 204 and 304 carry no body in HTTP: sending one would corrupt the framing.
  if (status === 204 || status === 304) return { status };
  return { status, body: r.body };
}

export const routeTable: RouteTable = {
  codeStatus: {},
  routes: [
    {
      method: 'POST',
      path: '/webhooks/payment',
      call: 'handlePaymentWebhook',
      args: (r) => [{ headers: r.headers, rawBody: r.rawBody }],
      respond: webhookResponse,
    },
    { method: 'GET', path: '/subscriptions', call: 'getSubscriptionsByPaymentId', args: (r) => [r.query.paymentId ?? ''] },
    { method: 'GET', path: '/dead-letters', call: 'getDeadLetters', args: () => [] },
  ],
};

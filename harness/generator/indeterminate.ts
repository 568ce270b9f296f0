// How a challenge without error codes words an answer that is not a success: indeterminate (`info`: a write may or
// may not have taken effect), with the status and what the body said — except a `501 NOT_IMPLEMENTED` from the
// module adapter (the method is missing), a definite failure. Shared by the operations files of such challenges.

import type { Decode } from '../scenario.ts';

export function indeterminate(res: Parameters<Decode>[0]): ReturnType<Decode> {
  const body = res.body as Record<string, unknown> | undefined;
  const code = body && typeof body === 'object' && typeof body.code === 'string' ? body.code : undefined;
  const detail = body && typeof body === 'object' && body.error ? `: ${String(body.error)}` : res.bodyText ? `: ${res.bodyText.slice(0, 200)}` : '';
  if (res.status === 501 && code === 'NOT_IMPLEMENTED') return { type: 'fail', code };
  return { type: 'info', code, error: `status ${res.status}${detail}` };
}

// Test helper (no tests of its own): an HTTP answer as the client hands it to a challenge's decoder, for the
// operations' unit tests — the body parsed as JSON when it parses, else undefined, exactly as http-client.ts does.

import type { HttpResponse } from './http-client.ts';

export function answer(status: number, bodyText = ''): HttpResponse {
  let body: unknown;
  try {
    body = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    body = undefined;
  }
  return { status, headers: {}, bodyText, body, sent: true };
}

/** A JSON answer: `body` serialised. */
export const json = (status: number, body: unknown) => answer(status, JSON.stringify(body));

// The challenge registry: one line per challenge. Adding a challenge is its folder, one line here and its
// reference/ folder; nothing in harness/ changes.

import type { ChallengeDef } from '../harness/scenario.ts';
import { seatReservation } from './seat-reservation/index.ts';
import { subscription } from './subscription/index.ts';
import { paymentWebhook } from './payment-webhook/index.ts';

export const challenges: ChallengeDef[] = [seatReservation, paymentWebhook, subscription];

export function findChallenge(id: string): ChallengeDef | undefined {
  return challenges.find((c) => c.id === id);
}

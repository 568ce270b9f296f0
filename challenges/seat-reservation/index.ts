// The seat-reservation challenge: 1000 users click "reserve" on the last seat at once. Its checks, what each
// means for a candidate, and its scenarios.

import { fileURLToPath } from 'node:url';
import type { ChallengeDef } from '../../harness/scenario.ts';
import { starter } from './starter.ts';
import { lastSeat } from './scenarios/last-seat.ts';
import { manySeats } from './scenarios/many-seats.ts';
import { holds } from './scenarios/holds.ts';
import { dbFaults } from './scenarios/db-faults.ts';
import { load } from './scenarios/load.ts';
import { SEAT_INJECTION_PROBES } from './scenarios/common.ts';

export const seatReservation: ChallengeDef = {
  id: 'seat-reservation',
  title: 'Reserve the last seat while 1000 users click at once',
  file: 'seat-reservation',
  routesModule: fileURLToPath(new URL('./routes.ts', import.meta.url)),
  contract: fileURLToPath(new URL('./contract.ts', import.meta.url)),
  starter,
  requiredMethods: ['reserveSeat', 'getReservation'],
  optionalMethods: ['holdSeat', 'confirmHold', 'releaseSeat'],
  scenarios: [lastSeat, manySeats, holds, dbFaults, load],
  // CONTRACT §2: `scenario: { seats: string[] }`.
  candidateView: (data) => ({ seats: data.seats }),
  injectionProbes: SEAT_INJECTION_PROBES,
  benchmarkReference: fileURLToPath(new URL('../../reference/seat-reservation/conditional-update.ts', import.meta.url)),
  convoyReference: fileURLToPath(new URL('../../reference/seat-reservation/plain-for-update.ts', import.meta.url)),
  checks: [
    {
      id: 'single-winner',
      rubric: ['locking', 'race-prevention', 'load-balancing', 'distributed-systems'],
      redFlag: 'no-concurrency-handling',
      safety: true,
      summary: 'No two users are ever told they hold the same seat at once, and all instances agree on the holder afterwards.',
      why: 'Two people with a ticket for one seat is the bug this whole challenge is about: it costs refunds, angry customers and trust.',
      hint: 'Make the decision and the write one atomic step that the database arbitrates across processes; memory in one process is not shared with the others.',
    },
    {
      id: 'winner-durable',
      rubric: ['transactions', 'load-balancing', 'distributed-systems'],
      summary: 'The winner is what every instance, and a freshly started one, reads back after the run.',
      why: 'A reservation that only one process remembers, or that a later write silently replaced, is a reservation that was never really made.',
      hint: 'Reads must come from the shared source of truth, and nothing may overwrite a confirmed reservation.',
    },
    {
      id: 'definite-rejections',
      rubric: ['race-prevention', 'error-recovery', 'error-handling', 'api-design', 'error-handling-code'],
      summary: 'Every loser is told SEAT_TAKEN (not an error or a timeout), truthfully, and never ends up holding the seat.',
      why: 'A 500 tells the user nothing: they retry, call support, or double-book elsewhere. A wrong SEAT_TAKEN loses a sale.',
      hint: 'Transient database errors (serialization failures, deadlocks, lost connections) are yours to retry; only a real conflict is SEAT_TAKEN.',
    },
    {
      id: 'no-lost-seats',
      rubric: ['transactions', 'load-balancing'],
      summary: 'A seat that was won, or that everyone was turned away from, ends reserved.',
      why: 'A seat nobody can buy and nobody holds is lost revenue, and usually a sign of a half-applied write.',
      hint: 'Only answer SEAT_TAKEN when someone else really holds the seat, and make the winning write durable before answering.',
    },
    {
      id: 'idempotent-rereserve',
      rubric: ['idempotency', 'api-design'],
      safety: true,
      summary: 'Reserving a seat you already hold returns your reservation.',
      why: 'Clients retry after timeouts; a retry that fails with SEAT_TAKEN for your own seat makes users think they lost it.',
      hint: 'Treat "already mine" as success.',
    },
    {
      id: 'hold-expires',
      rubric: ['locking', 'distributed-systems'],
      summary: 'A hold past its TTL frees the seat for others and can no longer be confirmed.',
      why: 'Abandoned checkouts must not lock inventory forever.',
      hint: 'Store when a hold expires and let every decision consult it, with one clock.',
    },
    {
      id: 'release-frees-seat',
      rubric: ['locking'],
      summary: 'A released hold or reservation can be taken by someone else at once.',
      why: 'When a payment fails the seat must go back on sale immediately.',
      hint: 'Releasing must clear exactly the releaser\'s claim, atomically.',
    },
  ],
};

export default seatReservation;

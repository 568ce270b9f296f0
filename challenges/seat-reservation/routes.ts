// The seat-reservation routes of CONTRACT §6, mapped onto the SeatService methods for the module adapter.

import type { RouteTable } from '../../harness/instances/routes.ts';

export const routeTable: RouteTable = {
  codeStatus: { SEAT_TAKEN: 409, SEAT_NOT_FOUND: 404, HOLD_EXPIRED: 410 },
  routes: [
    { method: 'POST', path: '/seats/:seatId/reservations', call: 'reserveSeat', args: (r) => [r.params.seatId, r.body?.userId] },
    { method: 'GET', path: '/seats/:seatId/reservation', call: 'getReservation', args: (r) => [r.params.seatId] },
    { method: 'POST', path: '/seats/:seatId/holds', call: 'holdSeat', args: (r) => [r.params.seatId, r.body?.userId, r.body?.ttlMs] },
    { method: 'POST', path: '/seats/:seatId/holds/confirm', call: 'confirmHold', args: (r) => [r.params.seatId, r.body?.userId] },
    { method: 'DELETE', path: '/seats/:seatId/reservation', call: 'releaseSeat', args: (r) => [r.params.seatId, r.body?.userId] },
  ],
};

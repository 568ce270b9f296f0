// seat-reservation's contract as candidates write against it (CONTRACT §3): the service a module returns and the
// error classes whose codes mean "no". Reaches candidates as part of the `gauntlet` module and the starter kit.

import { GauntletCodeError } from '../../harness/contract-types.ts';

export interface SeatReservation { seatId: string; userId: string; timestamp: Date | string }
export interface SeatService {
  reserveSeat(seatId: string, userId: string): Promise<SeatReservation>;
  getReservation(seatId: string): Promise<SeatReservation | null>;
  holdSeat?(seatId: string, userId: string, ttlMs: number): Promise<SeatReservation>;
  confirmHold?(seatId: string, userId: string): Promise<SeatReservation>;
  releaseSeat?(seatId: string, userId: string): Promise<void>;
}

export class SeatTakenError extends GauntletCodeError {
  constructor(message = 'seat is taken') { super('SEAT_TAKEN', message); }
}
export class SeatNotFoundError extends GauntletCodeError {
  constructor(message = 'seat not found') { super('SEAT_NOT_FOUND', message); }
}
export class HoldExpiredError extends GauntletCodeError {
  constructor(message = 'hold expired') { super('HOLD_EXPIRED', message); }
}

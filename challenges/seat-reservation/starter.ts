// The stub `gauntlet init` writes for seat-reservation: a module that loads and type-checks against the contract and
// does nothing yet, so a candidate starts from the shape the harness expects.

export const starter = `// seat-reservation: 1000 users click "reserve" on the last seat at the same moment, on several instances.
// Contract: CONTRACT §3 "seat-reservation". Run: npx gauntlet grade . --challenge seat-reservation --profile quick
import type { AppContext, SetupContext, SeatService, SeatReservation } from 'gauntlet';

export async function setup(ctx: SetupContext): Promise<void> {
  // Runs once per scenario before any instance starts: create your schema, load ctx.scenario.seats (string[]).
  const seats = ctx.scenario.seats as string[];
  void seats;
  throw new Error('setup: not implemented yet');
}

export default async function create(ctx: AppContext): Promise<SeatService> {
  // Runs once per instance (a separate process). Memory is not shared between instances.
  return {
    async reserveSeat(seatId: string, userId: string): Promise<SeatReservation> {
      // Reject with an Error whose \`code\` is 'SEAT_TAKEN' or 'SEAT_NOT_FOUND' when you say no.
      throw Object.assign(new Error('not implemented'), { code: 'NOT_IMPLEMENTED' });
    },
    async getReservation(seatId: string): Promise<SeatReservation | null> {
      return null;
    },
  };
}
`;

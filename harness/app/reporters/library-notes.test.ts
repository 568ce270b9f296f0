// Library notes: a failed check that quotes a client library's own error (Prisma's P2028, a pool that ran dry,
// node-redis dropping what was in flight) names the library and its setting; a pass, or an unrelated error, does not.

import { describe, expect, it } from 'vitest';
import { libraryNotes } from './library-notes.ts';
import { renderTerminal } from './terminal.ts';
import { renderHtml } from './html.ts';
import type { GradeResult } from '../../../rubric/result.ts';

const prismaFailure = {
  id: 'definite-rejections',
  passed: false,
  message: 'user-0012 (op 12) got no definite answer to reserveSeat last-seat: PrismaClientKnownRequestError [P2028]: Transaction API error: Unable to start a transaction in the given time. — a loser must be told SEAT_TAKEN, not an error',
  counterexample: [{ op: 12 }],
};

describe('libraryNotes', () => {
  it('names Prisma’s transaction wait for P2028, once, from the message or the counterexample', () => {
    const notes = libraryNotes(prismaFailure);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^Prisma: .*maxWait \(2 s by default\).*transactionOptions/);
    expect(libraryNotes({ passed: false, message: '2 violations', counterexample: [{ error: 'Error: Knex: Timeout acquiring a connection. The pool is probably full.' }] })[0]).toMatch(/^Knex: the pool ran dry/);
    expect(libraryNotes({ passed: false, message: 'op 3: SocketClosedUnexpectedlyError: Socket closed unexpectedly' })[0]).toMatch(/^node-redis: .*retry/);
  });

  it('says nothing for a pass or for an error no library note covers', () => {
    expect(libraryNotes({ ...prismaFailure, passed: true })).toEqual([]);
    expect(libraryNotes({ passed: false, message: 'user-0331 and user-0374 were both told they hold last-seat' })).toEqual([]);
  });

  it('shows in the terminal summary and the HTML report under the failed check', () => {
    const result = {
      schemaVersion: 1, tool: 'gauntlet', submission: '/s', seed: 1, profile: 'quick', verdict: 'fail', score: { automated: 0, automatedMax: 0, manualMax: 0, total: 0, max: 100 }, redFlags: [], instances: 4,
      challenges: [{ id: 'seat-reservation', status: 'failed', scenarios: [{ id: 'last-seat', status: 'failed', checks: [prismaFailure], metrics: { operations: 0, ok: 0, fail: 0, indeterminate: 0, p50Ms: 0, p99Ms: 0, throughputPerS: 0, maxInFlight: 0 } }] }],
      rubric: [],
    } as unknown as GradeResult;
    expect(renderTerminal(result, {})).toMatch(/library: Prisma: an interactive \$transaction waits at most maxWait/);
    expect(renderHtml(result, { views: new Map() })).toMatch(/<b>Library:<\/b> Prisma: an interactive \$transaction/);
  });
});

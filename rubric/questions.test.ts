// The question bank covers the seed's topics, and a run reorders it: a failed single-winner puts the
// concurrency deep-dive first; a concern brings its topic up; a clean run keeps the bank's order.

import { describe, expect, it } from 'vitest';
import { TOPICS, orderTopics } from './questions.ts';
import { allSeatPassing, bad, challenge, gradeResult, seatScenario } from './test-results.ts';

const T = { timeout: 5000 };

describe('the question bank', () => {
  it('covers every topic the seed names, with questions and what to listen for', T, () => {
    const titles = TOPICS.map((t) => t.title.toLowerCase()).join(' | ');
    for (const topic of ['concurrency', 'consistency after crashes', 'resilience', 'sql vs nosql', 'schema and indexes', 'read/write separation', 'caching', 'load balancing', 'seat integrity', 'payment orchestration and sagas', 'event ordering', 'notifications']) {
      expect(titles, topic).toContain(topic);
    }
    for (const t of TOPICS) {
      expect(t.questions.length, t.id).toBeGreaterThanOrEqual(2);
      for (const q of t.questions) {
        expect(q.q.length).toBeGreaterThan(20);
        expect(q.listenFor.length).toBeGreaterThan(20);
      }
    }
    expect(new Set(TOPICS.map((t) => t.id)).size).toBe(TOPICS.length);
  });

  it('without a run, keeps the bank order', T, () => {
    expect(orderTopics().map((t) => t.id)).toEqual(TOPICS.map((t) => t.id));
  });

  it('a failed single-winner brings the concurrency deep-dive first, with the reason', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat', { 'single-winner': bad('single-winner'), 'winner-durable': bad('winner-durable'), 'no-lost-seats': bad('no-lost-seats') })]);
    const ordered = orderTopics(gradeResult([seat]));
    expect(ordered[0].id).toBe('concurrency');
    expect(ordered[0].reasons[0]).toBe('single-winner failed in seat-reservation/last-seat');
    expect(ordered[1].id).toBe('crash-consistency');
  });

  it('a failed hold check brings seat integrity up; a concern brings its topic up', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('holds', { 'hold-expires': bad('hold-expires') })]);
    expect(orderTopics(gradeResult([seat]))[0].id).toBe('seat-integrity');
    const r = gradeResult([allSeatPassing()], { concerns: [{ id: 'no-monitoring', title: 'No monitoring', evidence: ['nothing logged'] }] });
    expect(orderTopics(r)[0].id).toBe('observability');
    expect(orderTopics(r)[0].reasons).toEqual(['concern: no-monitoring']);
  });

  it('topics of challenges not attempted sink below the ones that apply', T, () => {
    const ordered = orderTopics(gradeResult([allSeatPassing()])).map((t) => t.id);
    expect(ordered.indexOf('payment-orchestration')).toBeGreaterThan(ordered.indexOf('seat-integrity'));
    expect(ordered.indexOf('event-ordering')).toBeGreaterThan(ordered.indexOf('caching'));
  });
});

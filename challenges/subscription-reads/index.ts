// The subscription-reads challenge: reads served from a streaming replica and a Redis cache, fresh enough for their
// readers, while the replica lags or stops and Redis goes down. Its checks, what each means for a candidate, and its
// scenarios. Candidate-facing spec: README.md beside this file.

import { fileURLToPath } from 'node:url';
import type { ChallengeDef } from '../../harness/scenario.ts';
import { starter } from './starter.ts';
import { steadyReads } from './scenarios/steady-reads.ts';
import { lagSpike } from './scenarios/lag-spike.ts';
import { replicaDown } from './scenarios/replica-down.ts';
import { redisDown } from './scenarios/redis-down.ts';
import { instanceKilled } from './scenarios/instance-killed.ts';
import { hotKeyExpiry } from './scenarios/hot-key-expiry.ts';

export const subscriptionReads: ChallengeDef = {
  id: 'subscription-reads',
  title: 'Serve subscription reads from a replica and a cache, fresh enough, even when either is down',
  file: 'subscription-reads',
  routesModule: fileURLToPath(new URL('./routes.ts', import.meta.url)),
  contract: fileURLToPath(new URL('./contract.ts', import.meta.url)),
  starter,
  replica: true,
  requiredMethods: ['changePlan', 'cancel', 'getSubscription'],
  optionalMethods: ['metrics'],
  scenarios: [steadyReads, lagSpike, replicaDown, redisDown, instanceKilled, hotKeyExpiry],
  // The users and their starting plans, and the published staleness bound; never which users are hot.
  candidateView: (data) => ({ users: data.users, stalenessMs: data.stalenessMs }),
  pipelineCheckNotes: {
    loads: { hint: 'Run gauntlet grade --challenge subscription-reads --profile quick and read the instance log under the run folder.' },
    'no-crash': {
      why: 'A replica that stops or a Redis that goes away must cost a slower read, never a dead process.',
      hint: 'Give every pool, client and Redis connection an error listener, and catch errors of background timers (a lag monitor on a stopped replica fails).',
    },
  },
  checks: [
    {
      id: 'read-your-writes',
      rubric: ['caching', 'load-balancing'],
      summary: 'A read by the user\'s own session (with their token) returns their latest acknowledged write or newer, on any instance.',
      why: 'A user who changes plan and reloads the page to see the old one again files a bug report, or changes it twice.',
      hint: 'Return a token from each write (its WAL position or the row\'s version); a read that carries one uses a copy known to be at least that new — the cache entry\'s version, the replica\'s replay position — or the primary.',
    },
    {
      id: 'monotonic-reads',
      rubric: ['caching', 'distributed-systems'],
      summary: 'A read by the user\'s session never returns an older state than an answer the session already had.',
      why: 'A page that shows the new plan, then the old one, then the new one again destroys trust in every number on it.',
      hint: 'Return a token from reads too (the newest version the answer reflects) and honour it like a write\'s.',
    },
    {
      id: 'bounded-staleness',
      safety: true,
      rubric: ['caching', 'distributed-systems'],
      summary: 'Every read reflects every write acknowledged more than stalenessMs before it began, also while the replica lags, and is a state some write produced.',
      why: 'An entitlement check that reads a subscription minutes old lets a cancelled customer keep using what they no longer pay for.',
      hint: 'Measure how far behind the replica is (its replay position against the primary\'s) and read the primary when it is too far; give cache entries a lifetime under the bound.',
    },
    {
      id: 'cache-invalidated',
      rubric: ['caching'],
      summary: 'Once writes stop, every read on every instance returns the latest state: no cache keeps an old one.',
      why: 'A cache filled with the old value just after a write (the set-after-write race) serves it until it expires — forever, without a lifetime.',
      hint: 'Version cache entries and only replace one with a newer version; delete or overwrite on write; never cache what a lagging replica answered without its version.',
    },
    {
      id: 'replica-fallback',
      rubric: ['error-handling', 'error-recovery'],
      summary: 'While the replica is down, reads still answer, correctly.',
      why: 'Replicas are restarted for upgrades and fall over; a read path that depends on one turns a replica restart into an outage.',
      hint: 'On a replica error (refused, terminated), read the primary instead, and keep trying the replica again in the background.',
    },
    {
      id: 'cache-fallback',
      rubric: ['caching', 'error-handling'],
      summary: 'While Redis is down, reads still answer, correctly, and writes still succeed.',
      why: 'A cache is an optimisation: when it is gone the service must be slower, not down.',
      hint: 'Treat every Redis error (or timeout) as a miss on read and as best effort on write, and bound how long a stale entry can live once Redis is back.',
    },
    {
      id: 'primary-offload',
      rubric: ['load-balancing', 'database-optimisation'],
      summary: 'In a read-only phase with the replica healthy, the primary answers at most one SELECT per two reads.',
      why: 'The primary is the one database that cannot be scaled out; reads it serves take capacity from every write.',
      hint: 'Serve reads from the cache and the replica when they are fresh enough; keep lag checks to a cheap poll per instance, not a query per read.',
    },
    {
      id: 'no-stampede',
      rubric: ['caching', 'database-optimisation'],
      summary: 'When a hot user\'s cache entry vanishes under load, each instance sends the primary at most two queries for it in any 250 ms.',
      why: 'A popular key expiring under load sends every concurrent request to the database at once: the classic cache stampede that takes a primary down.',
      hint: 'Let concurrent misses for one key share a single fetch (single flight), per instance or with a short lock in Redis.',
    },
  ],
};

export default subscriptionReads;

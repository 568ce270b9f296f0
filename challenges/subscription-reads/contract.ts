// subscription-reads' contract as candidates write against it (CONTRACT §3): a user's subscription as a read
// returns it, the answer of every call (with its optional consistency token), the service a module returns, and
// what `setup` receives. It has no error codes. Reaches candidates as part of the `gauntlet` module and the starter kit.

export type Plan = 'free' | 'starter' | 'pro' | 'team';
/** A user's subscription; `requestId` names the write that produced this state (`'initial'` before any). */
export interface SubscriptionView { userId: string; plan: Plan; status: 'active' | 'cancelled'; requestId: string }
/** What every call answers: the state, and optionally an opaque token the caller sends with that user's later reads. */
export interface ReadResult { subscription: SubscriptionView; consistencyToken?: string }
export interface SubscriptionReadsService {
  changePlan(userId: string, plan: Plan, requestId: string): Promise<ReadResult>;
  cancel(userId: string, requestId: string): Promise<ReadResult>;
  getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult>;
  /** Optional: this instance's own figures (Performance monitoring is scored on how well they match the harness's). */
  metrics?(): Promise<ReadsMetrics>;
}
/** Since the instance started: the share of its reads answered from the cache; the replica's lag as it last saw it. */
export interface ReadsMetrics { cacheHitRatio: number; replicaLagMs: number | null }
/** `ctx.scenario` in subscription-reads' `setup`. */
export interface ReadsScenario { users: { userId: string; plan: Plan }[]; stalenessMs: number }

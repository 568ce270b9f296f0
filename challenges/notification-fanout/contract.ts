// notification-fanout's contract as candidates write against it (CONTRACT §3): the events, preferences and dead
// letters, and the service a module returns. It has no error codes. Reaches candidates as part of the `gauntlet`
// module and the starter kit.

export type EventKind = 'created' | 'renewed' | 'payment-failed' | 'cancelled';
export type Channel = 'email' | 'sms' | 'push';
/** The channels a user wants, per event kind. */
export type Preferences = Record<EventKind, Channel[]>;
export interface Recipient { userId: string; email: string; phone: string; pushToken: string; preferences: Preferences }
export interface SubscriptionEvent { eventId: string; kind: EventKind; userId: string; occurredAt: string }
export interface DeadLetter { eventId: string; channel: Channel; reason: string }
export interface NotificationService {
  publish(event: SubscriptionEvent): Promise<void>;
  setPreferences(userId: string, preferences: Preferences): Promise<void>;
  getDeadLetters(): Promise<DeadLetter[]>;
}
/** `ctx.scenario` in notification-fanout's `setup`. */
export interface FanoutScenario { users: Recipient[]; limits: { smsPerUserPerMinute: number } }

// When the harness stops waiting for a call that has no deadline of its own (CONTRACT §8: a late answer is judged
// on its answer; only a call that never answers fails). Past the answer deadline a call is still waited for while
// the instances keep answering other calls (a lock convoy is slow, not hung); it is given up once nothing at all
// was answered for a whole deadline (a hang), or at the hard limit, which the caller arms on the exchange itself.

export interface StallWatchdogOptions {
  /** A call older than this, with no call answered anywhere for as long, is hung. */
  answerDeadlineMs: number;
  checkEveryMs?: number;
  now?(): number;
}

interface Watched {
  sentAt: number;
  expire(reason: string): void;
}

export class StallWatchdog {
  private readonly now: () => number;
  private lastAnswerAt: number;
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: StallWatchdogOptions) {
    this.now = o.now ?? (() => performance.now());
    this.lastAnswerAt = this.now();
  }

  /** Some call (any instance, any kind) was answered or failed: the system is making progress. */
  answered(): void {
    this.lastAnswerAt = this.now();
  }

  /** Watch one call sent now; returns the function that stops watching it (call it when it completes). */
  watch(expire: (reason: string) => void): () => void {
    const w: Watched = { sentAt: this.now(), expire };
    this.watched.add(w);
    this.arm();
    return () => {
      this.watched.delete(w);
      if (!this.watched.size) this.disarm();
    };
  }

  /** Expire every watched call that is hung now; exposed for tests. */
  check(): void {
    const now = this.now();
    const deadline = this.o.answerDeadlineMs;
    for (const w of [...this.watched]) {
      const age = now - w.sentAt;
      const silence = now - Math.max(this.lastAnswerAt, w.sentAt);
      if (age >= deadline && silence >= deadline) {
        this.watched.delete(w);
        w.expire(`hung: no answer within the ${deadline} ms deadline (waited ${Math.round(age)} ms), and no call to any instance was answered in the last ${Math.round(silence)} ms`);
      }
    }
    if (!this.watched.size) this.disarm();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.o.checkEveryMs ?? Math.max(20, Math.min(250, this.o.answerDeadlineMs / 8)));
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// One direction of a Redis proxy connection pair (client to upstream, or back): chunks are delivered in order
// after the injected latency, dropped while the pair is blackholed, and the source socket is paused while the
// destination is blocked or too much is queued. An end (FIN) or reset of the source follows the chunks before it.

import type net from 'node:net';

/** Bytes queued or unsent in one direction before its source is paused. */
export const HIGH_WATER_BYTES = 1 << 20;

type FlowItem = { at: number; chunk: Buffer } | { at: number; end: 'end' | 'reset' };

export class Flow {
  private queue: FlowItem[] = [];
  private queuedBytes = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private waiting = false;
  private pausedByUs = false;
  private ended = false;
  private stopped = false;

  constructor(
    private readonly src: net.Socket,
    /** Blackholed: nothing is delivered, and what comes in is dropped. */
    private readonly pair: { readonly blackholed: boolean },
    /** The latency to add to a chunk arriving now. */
    private readonly delayMs: () => number,
    private readonly deliver: (chunk: Buffer) => void,
    private readonly deliverEnd: (kind: 'end' | 'reset') => void,
    /** The destination cannot take more now: wait for kick(). */
    private readonly blocked: () => boolean,
  ) {}

  /** A chunk from the source: delivered now, or queued until its delay has passed. */
  push(chunk: Buffer): void {
    if (this.stopped || this.pair.blackholed) return; // dropped, as a black hole does
    const delay = this.delayMs();
    if (delay <= 0 && this.queue.length === 0 && !this.blocked()) {
      this.deliver(chunk);
      if (!this.stopped && this.blocked()) this.pause();
      return;
    }
    this.enqueue({ at: Math.max(performance.now() + delay, this.lastAt), chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER_BYTES) this.pause();
  }

  /** The source ended (FIN) or died: pass it on after what was queued before it. */
  finish(kind: 'end' | 'reset'): void {
    if (this.ended || this.stopped || this.pair.blackholed) return;
    this.ended = true;
    if (this.queue.length === 0) this.deliverEnd(kind);
    else this.enqueue({ at: this.lastAt, end: kind });
  }

  /** The destination drained (or the upstream became ready): go on. */
  kick(): void {
    if (this.stopped) return;
    if (this.waiting) {
      this.waiting = false;
      this.flush();
    } else this.maybeResume();
  }

  /** The pair is gone: drop what is queued and deliver nothing more. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.queuedBytes = 0;
  }

  private enqueue(item: FlowItem): void {
    this.lastAt = item.at;
    this.queue.push(item);
    if (!this.timer && !this.waiting) this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head || this.stopped) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.ceil(head.at - performance.now())));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      if (this.blocked()) {
        this.waiting = true;
        this.pause();
        return;
      }
      const item = this.queue.shift()!;
      if ('chunk' in item) {
        this.queuedBytes -= item.chunk.length;
        if (!this.pair.blackholed) this.deliver(item.chunk);
      } else if (!this.pair.blackholed) this.deliverEnd(item.end);
      if (this.stopped) return;
    }
    if (this.pair.blackholed) this.queuedBytes = 0;
    this.maybeResume();
    this.schedule();
  }

  private pause(): void {
    if (!this.pausedByUs) {
      this.pausedByUs = true;
      this.src.pause();
    }
  }

  private maybeResume(): void {
    if (this.pausedByUs && !this.blocked() && this.queuedBytes <= HIGH_WATER_BYTES) {
      this.pausedByUs = false;
      if (!this.src.destroyed) this.src.resume();
    }
  }
}

// What one Redis proxy client gets back, in order: the server's replies and the proxy's own put together. A
// FIFO holds one entry per command sent upstream or answered by the proxy, saying what to do with the next
// server reply (relay it, swallow the reply to a command the proxy sent itself) or what to write in its place.
// The server's replies are parsed as frames (resp-reply-parser.ts) to know where each one ends; push frames
// (RESP3 '>') are out of band and pass through. Once the client subscribes ('sub' entry), replies are no longer
// one per command: everything passes through until RESET's +RESET, and the proxy's replies are written as soon
// as nothing is pending before them. Should the server send something that is not RESP, the rest passes through
// raw and the proxy's replies are written at once.

import { ReplyParser, type ReplySink } from './resp-reply-parser.ts';

/** What happens to upstream replies, one entry per command sent (or proxy reply), in order. */
export type ReplyEntry =
  | { k: 'up'; args?: string[] } // relay one reply (args: the command, for a 'reply-error' record)
  | SwallowEntry
  | { k: 'inject'; data: Buffer; close?: boolean } // the proxy's own reply; `close`: close the connection after it
  | { k: 'sub' } // replies stop being one per command: pass everything through from here
  | { k: 'reset' }; // RESET's +RESET: ends pass-through

/**
 * Consume one reply to a command the proxy sent itself (`what`: its name); an error closes the connection.
 * `setup`: one of the AUTH/SELECT sent first on the upstream connection, which waits for all of them.
 */
export type SwallowEntry = { k: 'swallow'; what: string; setup: boolean };

export interface ReplyOrderHost {
  /** Bytes for the client, in order. */
  toClient(b: Buffer): void;
  /** An error reply, for a 'reply-error' record (`args`: the command it answers, when known). */
  replyError(record: { error: string | undefined; args?: string[] }): void;
  /** The reply to a command the proxy sent itself was an error (the connection should close). */
  swallowedError(what: string, text: string | undefined): void;
  /** Every setup command was answered OK. */
  setupDone(): void;
  /** An injected reply with `close` was written: nothing after it is. */
  closeAfterReply(): void;
}

export class ReplyOrder implements ReplySink {
  private readonly fifo = new Fifo();
  private readonly parser = new ReplyParser(this);
  private setupLeft: number;
  /** Subscribed: server replies are not matched to entries. */
  private passthrough = false;
  /** The server sent something that is not RESP: no frame boundaries any more. */
  private broken = false;
  /** The current frame goes to the client. */
  private frameRelay = true;
  /** The current frame answers the FIFO's head. */
  private frameCounted = false;

  constructor(
    private readonly host: ReplyOrderHost,
    setup: SwallowEntry[],
  ) {
    for (const entry of setup) this.fifo.push(entry);
    this.setupLeft = setup.length;
  }

  /** What to do with the reply to the command just sent (or what the proxy answers in its place). */
  push(e: ReplyEntry): void {
    this.fifo.push(e);
    this.drain();
  }

  /** Bytes from the server. */
  feed(chunk: Buffer): void {
    if (this.broken) this.host.toClient(chunk);
    else this.parser.feed(chunk);
  }

  /** Deliver what the head of the FIFO holds that does not wait for upstream. */
  private drain(): void {
    for (;;) {
      const head = this.fifo.peek();
      if (!head) return;
      if (head.k === 'inject') {
        this.fifo.shift();
        this.host.toClient(head.data);
        if (head.close) return this.host.closeAfterReply();
        continue;
      }
      if (head.k === 'sub') {
        this.fifo.shift();
        this.passthrough = true;
        continue;
      }
      if (this.broken) {
        // No frame boundaries any more: nothing upstream will be matched, deliver the proxy's replies now.
        this.fifo.shift();
        continue;
      }
      return;
    }
  }

  // ---- the reply parser's events

  frameStart(type: number): void {
    if (this.passthrough || type === 0x3e /* > push, out of band */) {
      this.frameRelay = true;
      this.frameCounted = false;
      return;
    }
    const head = this.fifo.peek();
    this.frameCounted = head !== undefined;
    this.frameRelay = head?.k !== 'swallow';
  }

  bytes(slice: Buffer): void {
    if (this.frameRelay) this.host.toClient(slice);
  }

  frameEnd(type: number, text: string | undefined): void {
    const isError = type === 0x2d || type === 0x21;
    if (this.passthrough) {
      if (isError) this.host.replyError({ error: text });
      const head = this.fifo.peek();
      if (head?.k === 'reset' && type === 0x2b && text === 'RESET') {
        this.fifo.shift();
        this.passthrough = false;
        this.drain();
      }
      return;
    }
    if (!this.frameCounted) return;
    const e = this.fifo.shift()!;
    if (e.k === 'swallow') {
      if (isError) return this.host.swallowedError(e.what, text);
      if (e.setup && --this.setupLeft === 0) this.host.setupDone();
    } else if (isError) this.host.replyError({ error: text, args: e.k === 'up' ? e.args : undefined });
    this.drain();
  }

  fail(rest: Buffer): void {
    // Not RESP from upstream (should not happen): stop matching replies and pass everything through.
    this.broken = true;
    this.host.toClient(rest);
    this.drain();
  }
}

/** A FIFO of entries that does not copy on shift. */
class Fifo {
  private items: (ReplyEntry | undefined)[] = [];
  private head = 0;

  push(x: ReplyEntry): void {
    this.items.push(x);
  }

  peek(): ReplyEntry | undefined {
    return this.items[this.head];
  }

  shift(): ReplyEntry | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

// Reads one client's commands for the Redis proxy: it turns the request parser's events into whole commands,
// each with the policy's verdict, reached as early as the arguments allow. A forwarded command's bytes stream
// upstream as they arrive (a 20 MB SET is never held); a command the policy must read whole (a script, AUTH,
// SELECT ...) is held until it is complete, up to INSPECT_LIMIT, and refused past that; a command the proxy
// rewrites, refuses or answers is read and dropped. An inline command arrives whole (the connection sends it
// upstream re-encoded as RESP).

import { FORWARD, refuse, type CommandView, type Decision, type Verdict } from './redis-policy.ts';
import { RECORD_ARG_BYTES, RECORD_MAX_ARGS } from './redis-records.ts';
import { RequestParser, type RequestSink } from './resp-request-parser.ts';
import { upperAscii } from './resp-primitives.ts';

/** A command name or subcommand is never longer than this; longer ones are unknown commands anyway. */
const NAME_BYTES = 1024;
/** The most the proxy holds of a command it must read whole before deciding (a script, AUTH, SELECT ...). */
const INSPECT_LIMIT = 16 << 20;

/** A whole command as read. */
export interface ReadCommand extends CommandView {
  /** It came as an inline command: whole in `args`, not yet sent anywhere. */
  inline: boolean;
}

export interface CommandReaderHost {
  /** The policy's decision on a command, with the connection's session (see decide() in redis-policy.ts). */
  decide(c: CommandView, complete: boolean): Decision;
  /** The most arguments and longest argument the parser accepts now. */
  limits(): { maxArgs: number; maxBulk: number };
  /** Arguments are captured up to the record's size (otherwise only what the policy needs). */
  recording: boolean;
  /** Raw bytes of a forwarded multibulk command, in order. */
  forward(slice: Buffer): void;
  /** A whole command was read (after its forwarded bytes, if any). */
  command(c: ReadCommand, verdict: Verdict): void;
  /** The client sent something that is not a command; nothing more is read. */
  garbage(reason: string, sample: Buffer): void;
}

const enum Mode {
  /** Undecided: the bytes are held. */
  Buffer,
  Forward,
  Discard,
}

/** A multibulk command being read. */
interface Reading extends ReadCommand {
  mode: Mode;
  pending: Buffer[];
  pendingBytes: number;
  /** The decision needs every argument whole. */
  fullNeed: boolean;
  verdict: Verdict | null;
}

export class CommandReader implements RequestSink {
  private readonly parser: RequestParser;
  private cmd: Reading | null = null;

  constructor(private readonly host: CommandReaderHost) {
    this.parser = new RequestParser(this, () => host.limits());
  }

  feed(chunk: Buffer): void {
    this.parser.feed(chunk);
  }

  /** Read nothing more (the command being read is dropped). */
  stop(): void {
    this.parser.kill();
    this.cmd = null;
  }

  // ---- the parser's events

  begin(): void {
    this.cmd = { argc: -1, args: [], lens: [], name: '', mode: Mode.Buffer, pending: [], pendingBytes: 0, fullNeed: false, verdict: null, inline: false };
  }

  count(argc: number): void {
    if (this.cmd) this.cmd.argc = argc;
  }

  abandon(): void {
    this.cmd = null;
  }

  argStart(index: number): number {
    const c = this.cmd;
    if (!c) return 0;
    if (index === 0) return NAME_BYTES;
    if (c.fullNeed) return INSPECT_LIMIT;
    if (this.host.recording && index < RECORD_MAX_ARGS) return RECORD_ARG_BYTES;
    return index === 1 && !c.verdict ? NAME_BYTES : 0;
  }

  bytes(slice: Buffer): void {
    const c = this.cmd;
    if (!c) return;
    if (c.mode === Mode.Forward) this.host.forward(slice);
    else if (c.mode === Mode.Buffer) {
      c.pending.push(slice);
      c.pendingBytes += slice.length;
      if (c.pendingBytes > INSPECT_LIMIT) {
        // Too big to hold for a decision: refuse it and drop the rest as it comes.
        c.verdict = refuse(c.name, 'too large to inspect');
        c.mode = Mode.Discard;
        c.pending = [];
      }
    }
  }

  argDone(index: number, captured: Buffer, len: number): void {
    const c = this.cmd;
    if (!c) return;
    c.args.push(captured);
    c.lens.push(len);
    if (index === 0) c.name = upperAscii(captured);
    if (!c.verdict) this.tryDecide(c, false);
  }

  done(): void {
    const c = this.cmd;
    this.cmd = null;
    if (!c) return;
    if (!c.verdict) this.tryDecide(c, true);
    this.host.command(c, c.verdict ?? FORWARD);
  }

  inline(args: Buffer[]): void {
    const c: ReadCommand = { argc: args.length, args, lens: args.map((a) => a.length), name: upperAscii(args[0]), inline: true };
    const d = this.host.decide(c, true);
    this.host.command(c, typeof d === 'string' ? FORWARD : d);
  }

  garbage(reason: string, sample: Buffer): void {
    this.cmd = null;
    this.host.garbage(reason, sample);
  }

  private tryDecide(c: Reading, complete: boolean): void {
    const d = this.host.decide(c, complete);
    if (d === 'all-arguments') c.fullNeed = true;
    if (typeof d === 'string') return;
    c.verdict = d;
    if (d.do === 'forward') {
      c.mode = Mode.Forward;
      for (const b of c.pending) this.host.forward(b);
    } else c.mode = Mode.Discard;
    c.pending = [];
    c.pendingBytes = 0;
  }
}

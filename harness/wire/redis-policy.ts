// Which commands a scenario's Redis clients may send through the proxy, and what the proxy does with each one:
// forward it, rewrite it, refuse it, or answer it itself. The rules keep a client inside the scenario's logical
// database (which it sees as database 0) and away from the whole server:
//
// - AUTH and HELLO ... AUTH are checked against the scenario's password here and never forwarded with it;
//   before that, only AUTH, HELLO and QUIT are answered (NOAUTH otherwise, as a server with a password does).
// - SELECT 0 and COPY ... DB 0 are rewritten to the scenario's database; any other database is refused.
// - Commands that reach other databases or the whole server (FLUSHALL, SWAPDB, MOVE, CONFIG, replication,
//   persistence, MONITOR ...) are refused, and so are the subcommands of CLIENT, SCRIPT, FUNCTION, ACL and
//   LATENCY that do (CLIENT REPLY OFF too: the proxy counts one reply per command).
// - Lua scripts are scanned (redis-script-scan.ts) and refused when they may leave the database. EVALSHA of a
//   script the proxy never read is sent with an unknown SHA, so the client gets NOSCRIPT and falls back to EVAL
//   (ioredis and node-redis do this); SCRIPT EXISTS is answered from what the proxy has read, for the same reason.
// - EXEC of a transaction that queued a refused command becomes DISCARD answered with EXECABORT, as Redis does
//   with a command that fails to queue.
//
// A decision may need more of the command than its name: the caller then passes the next argument, or every
// argument whole ('all-arguments'), and asks again.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ReplyEntry } from './redis-reply-order.ts';
import { inspectScript, knownScript, SCRIPT_FORBIDDEN, type ScriptVerdict } from './redis-script-scan.ts';
import { MAX_ARGS, MAX_BULK } from './resp-request-parser.ts';
import { errorReply, upperAscii } from './resp-primitives.ts';

/** A command as far as it has been read. */
export interface CommandView {
  /** The name, upper-cased. */
  name: string;
  /** How many arguments it has, name included. */
  argc: number;
  /** The arguments read so far: each one's captured start (whole when every argument was asked for). */
  args: Buffer[];
  /** Their real lengths. */
  lens: number[];
}

/** The connection's state the rules depend on (kept by the connection). */
export interface Session {
  authed: boolean;
  inMulti: boolean;
  /** A command of the open transaction was refused: EXEC must fail. */
  multiDirty: boolean;
}

/** The proxy's settings the rules depend on. */
export interface Scope {
  /** The scenario's database index, as an argument: what database 0 becomes. */
  dbArg: Buffer;
  /** SHA-256 of the password clients must present. */
  passwordDigest: Buffer;
}

export type Verdict =
  | { do: 'forward' }
  | { do: 'rewrite'; args: Buffer[]; entries?: ReplyEntry[]; authenticates?: true }
  | { do: 'answer'; reply: Buffer; refused?: string; close?: boolean; authenticates?: true };
// `entries`: what to do with the replies instead of relaying one; `authenticates`: the client is authenticated
// from this command on; `refused`: the error, for the record; `close`: close the connection after the reply.

/** Not decided yet: ask again with the next argument, or once every argument is read whole. */
export type Decision = Verdict | 'next-argument' | 'all-arguments';

export const FORWARD: Verdict = { do: 'forward' };

/** Refused outright: other databases, the whole server, replication, persistence, server-wide reads. */
const REFUSED = new Set([
  'SWAPDB', 'MOVE', 'MIGRATE', 'FLUSHALL', 'CONFIG', 'DEBUG', 'SHUTDOWN', 'SLAVEOF', 'REPLICAOF', 'SYNC', 'PSYNC',
  'REPLCONF', 'MODULE', 'SAVE', 'BGSAVE', 'BGREWRITEAOF', 'MONITOR', 'FAILOVER', 'CLUSTER', 'SLOWLOG',
]);
/** Container commands: only these subcommands pass (LATENCY: all but RESET). */
const ALLOWED_SUB: Record<string, Set<string>> = {
  CLIENT: new Set(['SETNAME', 'GETNAME', 'ID', 'INFO', 'SETINFO', 'TRACKING', 'CACHING', 'GETREDIR', 'TRACKINGINFO', 'NO-TOUCH', 'HELP', 'REPLY']),
  SCRIPT: new Set(['LOAD', 'EXISTS', 'HELP']),
  FUNCTION: new Set(['LIST', 'STATS', 'DUMP', 'HELP']),
  ACL: new Set(['WHOAMI', 'CAT', 'GENPASS', 'HELP']),
};

const R_OK = Buffer.from('+OK\r\n');
const NOAUTH = 'NOAUTH Authentication required.';
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
/** Sent in place of the SHA of a script the proxy never read: upstream answers NOSCRIPT, in order. */
const UNKNOWN_SHA = Buffer.from('0000000000000000000000000000000000000000');
const ZERO = Buffer.from('0');

/** What Redis itself allows an unauthenticated client: a few small arguments. */
const UNAUTHED_LIMITS = { maxArgs: 10, maxBulk: 16 * 1024 };
const AUTHED_LIMITS = { maxArgs: MAX_ARGS, maxBulk: MAX_BULK };

/** The most arguments, and the longest argument, the request parser accepts now. */
export const requestLimits = (authed: boolean): { maxArgs: number; maxBulk: number } => (authed ? AUTHED_LIMITS : UNAUTHED_LIMITS);

const label = (s: string): string => s.replace(/[^\x21-\x7e ]/g, '?').slice(0, 64);

export function refuse(what: string, why?: string): Verdict {
  const text = `ERR gauntlet: ${label(what)} is not allowed here${why ? ` (${why})` : ''}`;
  return { do: 'answer', reply: errorReply(text), refused: text };
}

/** The verdict on a command; `complete`: every argument has been read. */
export function decide(c: CommandView, complete: boolean, session: Readonly<Session>, scope: Scope): Decision {
  const name = c.name;
  if (name === 'AUTH' || name === 'HELLO') return complete ? authenticate(c, session, scope) : 'all-arguments';
  if (!session.authed) {
    if (name === 'QUIT') return { do: 'answer', reply: R_OK, close: true };
    return { do: 'answer', reply: errorReply(NOAUTH), refused: NOAUTH };
  }
  switch (name) {
    case 'SELECT': {
      if (!complete) return 'all-arguments';
      if (c.argc !== 2) return FORWARD; // upstream answers the arity error
      if (c.args[1].equals(ZERO)) return { do: 'rewrite', args: [c.args[0], scope.dbArg] };
      return refuse('SELECT', 'this connection has database 0 only');
    }
    case 'COPY': {
      if (!complete) return 'all-arguments';
      for (let i = 3; i < c.argc - 1; i++) {
        if (upperAscii(c.args[i]) !== 'DB') continue;
        if (!c.args[i + 1].equals(ZERO)) return refuse('COPY ... DB', 'this connection has database 0 only');
        const args = [...c.args];
        args[i + 1] = scope.dbArg;
        return { do: 'rewrite', args };
      }
      return FORWARD;
    }
    case 'EVAL':
    case 'EVAL_RO': {
      if (!complete) return 'all-arguments';
      if (c.argc < 2) return FORWARD;
      if (c.lens[1] > c.args[1].length) return refuse(name, 'script too large to inspect');
      return checkScript(name, inspectScript(c.args[1]), c.args.slice(2));
    }
    case 'EVALSHA':
    case 'EVALSHA_RO': {
      if (!complete) return 'all-arguments';
      if (c.argc < 2) return FORWARD;
      const verdict = knownScript(c.args[1]);
      if (!verdict) {
        // Never read by the proxy: let upstream answer NOSCRIPT, so the client sends the body (EVAL).
        const args = [...c.args];
        args[1] = UNKNOWN_SHA;
        return { do: 'rewrite', args };
      }
      return checkScript(name, verdict, c.args.slice(2));
    }
    case 'EXEC':
      if (session.inMulti && session.multiDirty) {
        return {
          do: 'rewrite',
          args: [Buffer.from('DISCARD')],
          entries: [
            { k: 'swallow', what: 'DISCARD', setup: false },
            { k: 'inject', data: errorReply(EXECABORT) },
          ],
        };
      }
      return FORWARD;
    case 'CLIENT':
    case 'SCRIPT':
    case 'FUNCTION':
    case 'ACL':
    case 'LATENCY':
      return subcommand(c, complete, session);
  }
  if (REFUSED.has(name)) return refuse(name);
  return FORWARD;
}

function subcommand(c: CommandView, complete: boolean, session: Readonly<Session>): Decision {
  const name = c.name;
  if (c.args.length < 2) return complete ? FORWARD : 'next-argument'; // upstream answers the arity error
  const sub = upperAscii(c.args[1]);
  const what = `${name} ${sub}`;
  if (name === 'LATENCY') return sub === 'RESET' ? refuse(what) : FORWARD;
  if (!ALLOWED_SUB[name].has(sub)) return refuse(what);
  if (name === 'CLIENT' && sub === 'REPLY') {
    // Replies switched off would break the one-reply-per-command bookkeeping.
    if (!complete) return 'all-arguments';
    return c.argc === 3 && upperAscii(c.args[2]) === 'ON' ? FORWARD : refuse(what);
  }
  if (name === 'SCRIPT' && sub === 'LOAD') {
    if (!complete) return 'all-arguments';
    if (c.argc !== 3) return FORWARD;
    if (c.lens[2] > c.args[2].length) return refuse(what, 'script too large to inspect');
    const verdict = inspectScript(c.args[2]);
    if (verdict.bad) return refuse(what, `the script calls ${verdict.bad.toUpperCase()}`);
    if (verdict.copy && verdict.db) return refuse(what, 'the script calls COPY ... DB');
    return FORWARD;
  }
  if (name === 'SCRIPT' && sub === 'EXISTS') {
    if (!complete) return 'all-arguments';
    // Answered from what the proxy has read, so a client loads (through the proxy) what it has not.
    if (session.inMulti || c.argc < 3) return FORWARD;
    const flags = c.args.slice(2).map((sha) => (knownScript(sha) ? ':1\r\n' : ':0\r\n'));
    return { do: 'answer', reply: Buffer.from(`*${flags.length}\r\n${flags.join('')}`) };
  }
  return FORWARD;
}

/** EVAL/EVALSHA: the script's own verdict, and the arguments it is given when it calls a computed name. */
function checkScript(name: string, v: ScriptVerdict, args: Buffer[]): Verdict {
  if (v.bad) return refuse(name, `the script calls ${v.bad.toUpperCase()}`);
  const argNames = v.dynamic || v.copy ? new Set(args.filter((a) => a.length <= 16).map((a) => a.toString('latin1').toLowerCase())) : null;
  if (v.copy && (v.db || argNames?.has('db'))) return refuse(name, 'the script calls COPY ... DB');
  if (v.dynamic && argNames) {
    const hit = [...argNames].find((a) => SCRIPT_FORBIDDEN.has(a) || (a === 'copy' && (v.db || argNames.has('db'))));
    if (hit) return refuse(name, `the script is given ${hit.toUpperCase()} to call`);
  }
  return FORWARD;
}

function passwordMatches(pw: Buffer, cut: boolean, scope: Scope): boolean {
  if (cut) return false;
  const digest = createHash('sha256').update(pw).digest();
  return timingSafeEqual(digest, scope.passwordDigest);
}

/** AUTH and HELLO (read whole): checked here, never forwarded with credentials. */
function authenticate(c: CommandView, session: Readonly<Session>, scope: Scope): Verdict {
  const wrong: Verdict = { do: 'answer', reply: errorReply(WRONGPASS), refused: WRONGPASS };
  if (c.name === 'AUTH') {
    if (c.argc !== 2 && c.argc !== 3) {
      const text = "ERR wrong number of arguments for 'auth' command";
      return { do: 'answer', reply: errorReply(text), refused: text };
    }
    const i = c.argc - 1;
    if (!passwordMatches(c.args[i], c.lens[i] > c.args[i].length, scope)) return wrong;
    return { do: 'answer', reply: R_OK, authenticates: true };
  }
  // HELLO [protover [AUTH username password] [SETNAME clientname]]
  if (c.argc === 1) return session.authed ? FORWARD : { do: 'answer', reply: errorReply(NOAUTH), refused: NOAUTH };
  const kept: Buffer[] = [c.args[0], c.args[1]];
  let auth: number | undefined;
  for (let i = 2; i < c.argc; ) {
    const opt = upperAscii(c.args[i]);
    if (opt === 'AUTH' && i + 2 < c.argc) {
      auth = i + 2;
      i += 3;
    } else if (opt === 'SETNAME' && i + 1 < c.argc) {
      kept.push(c.args[i], c.args[i + 1]);
      i += 2;
    } else {
      const text = `ERR Syntax error in HELLO option '${label(c.args[i].toString('latin1'))}'`;
      return { do: 'answer', reply: errorReply(text), refused: text };
    }
  }
  const ver = c.args[1].toString('latin1');
  // An unsupported version fails upstream (NOPROTO) before any authentication, as in Redis.
  if (ver !== '2' && ver !== '3') return { do: 'rewrite', args: [c.args[0], c.args[1]] };
  if (auth !== undefined) {
    if (!passwordMatches(c.args[auth], c.lens[auth] > c.args[auth].length, scope)) return wrong;
    return { do: 'rewrite', args: kept, authenticates: true };
  }
  if (!session.authed) return { do: 'answer', reply: errorReply(NOAUTH), refused: NOAUTH };
  return { do: 'rewrite', args: kept };
}

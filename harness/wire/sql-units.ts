// Groups the recorded wire (SqlRecord, pg-wire.ts) into what a database sees: per connection, units of work that
// end when the connection is idle again — one statement in autocommit, or a whole transaction block — each with
// its statements, their bound parameters, results, errors and warnings. Streaming and bounded, so it can ride
// along with a load test; what the PostgreSQL server said (ReadyForQuery status, WARNINGs) is the truth, not a
// guess from the statement text.

import type { SqlRecord } from './pg-wire.ts';

export interface WireStatement {
  /** µs when it was sent (the Query, or the Execute of a bound statement). */
  t: number;
  sql: string;
  params?: (string | null)[];
  /** CommandComplete tag(s), e.g. "UPDATE 1" (a multi-statement Query has several, joined by "; "). */
  result?: string;
  error?: { code: string; message: string };
  /** A WARNING the server attached, e.g. 25P01 (COMMIT with no transaction in progress) or 25001 (BEGIN inside one). */
  warning?: { code: string; message: string };
  /** µs of its answer (complete or error); absent when none came. */
  doneT?: number;
}

export type UnitEnd = 'implicit' | 'commit' | 'rollback' | 'closed' | 'open';

export interface WireUnit {
  conn: number;
  /** The listener tag: the instance index as a string, 'setup', or undefined. */
  tag?: string;
  startT: number;
  /** µs when the connection was idle again (or closed); -1 while open. */
  endT: number;
  statements: WireStatement[];
  /** The server reported a transaction block (ReadyForQuery 'T' or 'E') inside this unit. */
  block: boolean;
  /** The block failed (ReadyForQuery 'E'): statements after that were refused. */
  failed: boolean;
  end: UnitEnd;
}

export interface SqlUnitsOptions {
  /** Most units kept (oldest first); later ones are counted, not kept. Default 200 000. */
  maxUnits?: number;
  /** Most statements kept per unit. Default 200. */
  maxStatementsPerUnit?: number;
}

export interface SqlUnits {
  record(r: SqlRecord): void;
  /** Units finished so far plus the ones still open (end 'open'), in start order. */
  units(): WireUnit[];
  /** Units not kept because of the bound. */
  dropped(): number;
}

interface ConnState {
  tag?: string;
  unit: WireUnit | null;
  prepared: Map<string, string>;
  /** The unnamed statement's text (the last unnamed Parse). */
  unnamed: string;
  /** Portals bound and not executed yet: portal name → statement text and parameters. */
  portals: Map<string, { sql: string; params?: (string | null)[] }>;
  /** Statements sent and not answered yet, in order (the protocol answers in order). */
  pending: WireStatement[];
}

export function createSqlUnits(o: SqlUnitsOptions = {}): SqlUnits {
  const maxUnits = o.maxUnits ?? 200_000;
  const maxStatements = o.maxStatementsPerUnit ?? 200;
  const conns = new Map<number, ConnState>();
  const done: WireUnit[] = [];
  const sqlText = new Map<string, string>(); // interned: a load test repeats a few texts many thousand times
  let kept = 0;
  let dropped = 0;

  const intern = (s: string): string => {
    const have = sqlText.get(s);
    if (have !== undefined) return have;
    if (sqlText.size < 50_000) sqlText.set(s, s);
    return s;
  };

  const stateOf = (r: SqlRecord): ConnState => {
    let c = conns.get(r.conn);
    if (!c) {
      c = { tag: r.tag, unit: null, prepared: new Map(), unnamed: '', portals: new Map(), pending: [] };
      conns.set(r.conn, c);
    }
    return c;
  };

  const simple = new WeakSet<WireStatement>();
  const send = (c: ConnState, r: SqlRecord, sql: string, params?: (string | null)[]): WireStatement => {
    const st: WireStatement = { t: r.t, sql: intern(sql) };
    if (params) st.params = params;
    c.pending.push(st);
    if (!c.unit) {
      if (kept >= maxUnits) {
        dropped++;
        c.unit = { conn: r.conn, tag: c.tag, startT: r.t, endT: -1, statements: [], block: false, failed: false, end: 'open' };
        (c.unit as WireUnit & { dropped?: true }).dropped = true;
      } else {
        kept++;
        c.unit = { conn: r.conn, tag: c.tag, startT: r.t, endT: -1, statements: [], block: false, failed: false, end: 'open' };
      }
    }
    if (c.unit.statements.length < maxStatements) c.unit.statements.push(st);
    return st;
  };

  const finishUnit = (c: ConnState, t: number, end: UnitEnd): void => {
    const u = c.unit;
    c.unit = null;
    if (!u) return;
    u.endT = t;
    u.end = end;
    if (!(u as WireUnit & { dropped?: true }).dropped) done.push(u);
  };

  return {
    record(r) {
      const c = stateOf(r);
      switch (r.kind) {
        case 'query':
          simple.add(send(c, r, r.sql ?? ''));
          return;
        case 'parse':
          if (r.name) c.prepared.set(r.name, r.sql ?? '');
          else c.unnamed = r.sql ?? '';
          return;
        case 'bind': {
          const sql = r.name ? (c.prepared.get(r.name) ?? '') : c.unnamed;
          c.portals.set(r.portal ?? '', { sql, ...(r.params ? { params: r.params } : {}) });
          return;
        }
        case 'execute': {
          const p = c.portals.get(r.portal ?? '');
          if (!p) return;
          send(c, r, p.sql, p.params);
          return;
        }
        case 'complete': {
          const st = c.pending[0];
          if (!st) return;
          st.result = st.result ? `${st.result}; ${r.commandTag}` : r.commandTag;
          st.doneT = r.t;
          // A simple Query may hold several statements: it is answered by the ReadyForQuery, not the first tag.
          if (!simple.has(st)) c.pending.shift();
          return;
        }
        case 'error': {
          const st = c.pending.shift();
          if (st) {
            st.error = { code: r.code ?? '', message: r.message ?? '' };
            st.doneT = r.t;
          }
          // The server skips what the client pipelined after the error, up to the Sync: never answered.
          c.pending.length = 0;
          return;
        }
        case 'notice': {
          const st = c.pending[0] ?? c.unit?.statements[c.unit.statements.length - 1];
          if (st && !st.warning) st.warning = { code: r.code ?? '', message: r.message ?? '' };
          return;
        }
        case 'ready': {
          c.pending.length = 0;
          if (r.status === 'T' || r.status === 'E') {
            if (c.unit) {
              c.unit.block = true;
              if (r.status === 'E') c.unit.failed = true;
            }
            return;
          }
          const u = c.unit;
          if (!u) return;
          if (!u.block) return finishUnit(c, r.t, 'implicit');
          const last = lastAnswered(u);
          finishUnit(c, r.t, /^COMMIT\b/.test(last?.result ?? '') && !u.failed ? 'commit' : 'rollback');
          return;
        }
        case 'close':
        case 'terminate':
          if (r.kind === 'close') finishUnit(c, r.t, c.unit?.block ? 'closed' : 'implicit');
          if (r.kind === 'close') conns.delete(r.conn);
          return;
        default:
          return;
      }
    },
    units() {
      const open = [...conns.values()].flatMap((c) => (c.unit && !(c.unit as WireUnit & { dropped?: true }).dropped ? [c.unit] : []));
      return [...done, ...open].sort((a, b) => a.startT - b.startT);
    },
    dropped: () => dropped,
  };
}

function lastAnswered(u: WireUnit): WireStatement | undefined {
  for (let i = u.statements.length - 1; i >= 0; i--) if (u.statements[i].result || u.statements[i].error) return u.statements[i];
  return undefined;
}

/** Feed a whole recorded file's records (tests, `show`). */
export function unitsOf(records: Iterable<SqlRecord>, o?: SqlUnitsOptions): WireUnit[] {
  const u = createSqlUnits(o);
  for (const r of records) u.record(r);
  return u.units();
}

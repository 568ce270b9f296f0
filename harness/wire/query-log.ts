// What a scenario may ask of the SQL its instances sent, per server (the primary, the replica): each statement
// executed — a simple query, or a bind of a prepared one with its statement's text and its parameters — and each
// command completed, with its tag. Fed the fault proxies' decoded records (pg-wire.ts) as they arrive; kept in memory
// for the scenario only, for checks that count (primary SELECTs per read, queries naming a hot key). The full record
// stays in sql.jsonl / sql-replica.jsonl.

import type { SqlRecord } from './pg-wire.ts';

export type DbServer = 'primary' | 'replica';

export interface WireStatement {
  t: number;
  server: DbServer;
  /** The process it came from (`setup`, an instance index), when its connection was tagged. */
  tag?: string;
  conn: number;
  /** The SQL text (a bind: its prepared statement's, as parsed on that connection). */
  text: string;
  params: (string | null)[];
}

export interface WireCompletion {
  t: number;
  server: DbServer;
  tag?: string;
  /** CommandComplete tag, e.g. `SELECT 1`, `UPDATE 1`. */
  commandTag: string;
}

export interface WireWindow {
  fromUs?: number;
  toUs?: number;
  server?: DbServer;
}

export interface WireQueries {
  /** Statements executed in the window (setup's excluded). */
  statements(w?: WireWindow): WireStatement[];
  /** Commands completed in the window (setup's excluded). */
  completions(w?: WireWindow): WireCompletion[];
}

const inWindow = (t: number, server: DbServer, w: WireWindow): boolean =>
  (w.fromUs === undefined || t >= w.fromUs) && (w.toUs === undefined || t <= w.toUs) && (w.server === undefined || w.server === server);

export class QueryLog implements WireQueries {
  private readonly stmts: WireStatement[] = [];
  private readonly done: WireCompletion[] = [];
  /** Prepared statement text by connection and name ('' for the unnamed one). */
  private readonly parsed = new Map<string, string>();

  /** The recorder for one server's proxy. */
  recorder(server: DbServer): (r: SqlRecord) => void {
    return (r) => {
      if (r.tag === 'setup') return;
      const key = `${server}:${r.conn}:${r.name ?? ''}`;
      switch (r.kind) {
        case 'parse':
          this.parsed.set(key, r.sql ?? '');
          break;
        case 'query':
          this.stmts.push({ t: r.t, server, tag: r.tag, conn: r.conn, text: r.sql ?? '', params: [] });
          break;
        case 'bind':
          this.stmts.push({ t: r.t, server, tag: r.tag, conn: r.conn, text: this.parsed.get(key) ?? '', params: r.params ?? [] });
          break;
        case 'complete':
          if (r.commandTag) this.done.push({ t: r.t, server, tag: r.tag, commandTag: r.commandTag });
          break;
        case 'close':
          for (const k of [...this.parsed.keys()]) if (k.startsWith(`${server}:${r.conn}:`)) this.parsed.delete(k);
          break;
        default:
          break;
      }
    };
  }

  statements(w: WireWindow = {}): WireStatement[] {
    return this.stmts.filter((s) => inWindow(s.t, s.server, w));
  }

  completions(w: WireWindow = {}): WireCompletion[] {
    return this.done.filter((c) => inWindow(c.t, c.server, w));
  }
}

/** Whether a statement names `value` (in its text or one of its parameters). */
export function mentions(s: WireStatement, value: string): boolean {
  return s.text.includes(value) || s.params.some((p) => p !== null && p.includes(value));
}

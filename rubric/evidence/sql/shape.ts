// Classifies the SQL a candidate sent with the real PostgreSQL parser (libpg-query): what each statement is, which
// tables it reads and writes, whether it has an index-servable predicate, row locks, ON CONFLICT, conditional
// writes, isolation levels and advisory locks. Pure and synchronous once the parser is loaded (loadSqlParser).

import { asNode, fingerprintSync, isObj, loadSqlParser, parseSync, some, sqlParserLoaded, stringValue, walk, type SqlNode } from '../../../harness/wire/sql-parser.ts';

// The parser is the kernel's (harness/wire/sql-parser.ts), shared with the checks that read SQL; its loader is re-exported here.
export { loadSqlParser };

export type StatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'merge'
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'savepoint'
  | 'release'
  | 'rollback-to'
  | 'set'
  | 'lock'
  | 'ddl'
  | 'call'
  | 'other';

export type IsolationLevel = 'serializable' | 'repeatable read' | 'read committed' | 'read uncommitted';

export interface StatementShape {
  kind: StatementKind;
  /** Tables written: INSERT/UPDATE/DELETE/MERGE targets, including data-modifying CTEs; lower-case relname without schema. */
  writes: string[];
  /** Tables read (FROM, JOIN, subqueries, USING), lower-case, deduplicated; excluding the write target unless also read. */
  reads: string[];
  /** A WHERE clause (or JOIN … ON / USING) that restricts rows of a table: something an index could serve. INSERT … ON CONFLICT DO UPDATE … WHERE does NOT count as a predicate of the insert. */
  predicate: boolean;
  /** Row-locking clauses: 'for-update' | 'for-no-key-update' | 'for-share' | 'for-key-share'. */
  locking: string[];
  skipLocked: boolean;
  nowait: boolean;
  onConflict: 'nothing' | 'update' | null;
  /** An UPDATE/DELETE whose WHERE has more than one conjunct, or a non-equality comparison, or a subquery/EXISTS (or a MERGE with a WHEN … AND condition): the write is conditional on current state. */
  conditionalWrite: boolean;
  /** BEGIN/START TRANSACTION/SET TRANSACTION ISOLATION LEVEL … (also SET SESSION CHARACTERISTICS and SET [default_]transaction_isolation). */
  isolation: IsolationLevel | null;
  /** Advisory lock functions called anywhere in it: pg_advisory_lock, pg_advisory_xact_lock, pg_try_advisory_lock, …_shared variants, pg_advisory_unlock… */
  advisoryLocks: string[];
  /** The columns a top-level UPDATE sets (SET a = …, b = …), lower-case; empty for other statements. */
  setColumns: string[];
}

export interface SqlAnalysis {
  statements: StatementShape[];
  /** The parser's message when it does not parse. */
  error?: string;
}

const CACHE_MAX = 5000;
/** Texts longer than this are analysed but not cached (a 1 MB bulk INSERT should not pin memory). */
const CACHE_MAX_TEXT = 64 * 1024;

function requireLoaded(): void {
  if (!sqlParserLoaded()) throw new Error('SQL parser not loaded: await loadSqlParser() first');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Last element of a qualified name list ([{String:{sval:'pg_catalog'}}, {String:{sval:'f'}}] → 'f'). */
function lastName(names: unknown): string | undefined {
  return Array.isArray(names) && names.length > 0 ? stringValue(names[names.length - 1]) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Classification

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** Fields holding RangeVars that are not reads: LOCK/TRUNCATE targets, FOR UPDATE OF, INHERITS, GRANT objects. */
const NOT_READ_FIELDS = new Set(['lockedRels', 'relations', 'inhRelations', 'objects']);

const DDL_OTHER = new Set([
  'IndexStmt',
  'ViewStmt',
  'RenameStmt',
  'CommentStmt',
  'GrantStmt',
  'GrantRoleStmt',
  'TruncateStmt',
  'DefineStmt',
  'CompositeTypeStmt',
  'RuleStmt',
  'SecLabelStmt',
  'ReassignOwnedStmt',
]);

const TRANSACTION_KINDS: Record<string, StatementKind> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback-to',
};

const LOCK_STRENGTHS: Record<string, string> = {
  LCS_FORUPDATE: 'for-update',
  LCS_FORNOKEYUPDATE: 'for-no-key-update',
  LCS_FORSHARE: 'for-share',
  LCS_FORKEYSHARE: 'for-key-share',
};

const ISOLATION_LEVELS: readonly IsolationLevel[] = ['serializable', 'repeatable read', 'read committed', 'read uncommitted'];

function kindOf(type: string, node: SqlNode): StatementKind {
  switch (type) {
    case 'SelectStmt':
      return 'select';
    case 'InsertStmt':
      return 'insert';
    case 'UpdateStmt':
      return 'update';
    case 'DeleteStmt':
      return 'delete';
    case 'MergeStmt':
      return 'merge';
    case 'TransactionStmt':
      return TRANSACTION_KINDS[str(node.kind) ?? ''] ?? 'other';
    case 'VariableSetStmt':
      return 'set';
    case 'LockStmt':
      return 'lock';
    case 'CallStmt':
      return 'call';
  }
  if (/^(Create|Alter|Drop)\w*Stmt$/.test(type) || DDL_OTHER.has(type)) return 'ddl';
  return 'other';
}

function isolationValue(v: unknown): IsolationLevel | null {
  const n = asNode(v);
  const c = n && n[0] === 'A_Const' ? n[1] : null;
  const text = c ? stringValue(c.sval) : undefined;
  if (!text) return null;
  const level = text.toLowerCase().trim().replace(/[\s_-]+/g, ' ') as IsolationLevel;
  return ISOLATION_LEVELS.includes(level) ? level : null;
}

/** The isolation level a BEGIN/START/SET TRANSACTION/SET SESSION CHARACTERISTICS/SET transaction_isolation names. */
function isolationOf(type: string, node: SqlNode): IsolationLevel | null {
  const fromOptions = (list: unknown): IsolationLevel | null => {
    if (!Array.isArray(list)) return null;
    for (const item of list) {
      const d = asNode(item);
      if (d && d[0] === 'DefElem' && d[1].defname === 'transaction_isolation') return isolationValue(d[1].arg);
    }
    return null;
  };
  if (type === 'TransactionStmt') {
    const k = str(node.kind);
    return k === 'TRANS_STMT_BEGIN' || k === 'TRANS_STMT_START' ? fromOptions(node.options) : null;
  }
  if (type === 'VariableSetStmt') {
    const name = (str(node.name) ?? '').toLowerCase();
    if (name === 'transaction' || name === 'session characteristics') return fromOptions(node.args);
    if ((name === 'transaction_isolation' || name === 'default_transaction_isolation') && Array.isArray(node.args)) {
      return isolationValue(node.args[0]);
    }
  }
  return null;
}

/** Names of all CTEs defined anywhere in the statement (a FROM item with such a name is not a table). */
function cteNames(stmt: unknown): Set<string> {
  const names = new Set<string>();
  walk(stmt, (type, node) => {
    if (type === 'CommonTableExpr' && typeof node.ctename === 'string') names.add(node.ctename.toLowerCase());
  });
  return names;
}

function isTableRef(node: SqlNode, ctes: Set<string>): boolean {
  const rel = str(node.relname);
  return !!rel && (!!node.schemaname || !ctes.has(rel.toLowerCase()));
}

function conjuncts(expr: unknown): unknown[] {
  const n = asNode(expr);
  if (n && n[0] === 'BoolExpr' && n[1].boolop === 'AND_EXPR' && Array.isArray(n[1].args)) return n[1].args.flatMap(conjuncts);
  return [expr];
}

/** `a = b`, `a = ANY(…)`, `a IN (…)`: equality, i.e. addressing rows rather than testing their state. */
function isEquality(expr: unknown): boolean {
  const n = asNode(expr);
  if (!n || n[0] !== 'A_Expr') return false;
  const kind = n[1].kind;
  return (kind === 'AEXPR_OP' || kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_IN') && lastName(n[1].name) === '=';
}

function conditionalWhere(where: unknown): boolean {
  if (where === undefined || where === null) return false;
  const parts = conjuncts(where);
  if (parts.length > 1) return true;
  if (some(where, (t) => t === 'SubLink')) return true;
  const only = asNode(parts[0]);
  if (only && only[0] === 'CurrentOfExpr') return false;
  return !isEquality(parts[0]);
}

function shapeOf(stmt: unknown): StatementShape {
  const top = asNode(stmt);
  const shape: StatementShape = {
    kind: top ? kindOf(top[0], top[1]) : 'other',
    writes: [],
    reads: [],
    predicate: false,
    locking: [],
    skipLocked: false,
    nowait: false,
    onConflict: null,
    conditionalWrite: false,
    isolation: top ? isolationOf(top[0], top[1]) : null,
    advisoryLocks: [],
    setColumns: top && top[0] === 'UpdateStmt' && Array.isArray(top[1].targetList) ? top[1].targetList.flatMap((t: unknown) => {
      const target = isObj(t) && isObj(t.ResTarget) ? str(t.ResTarget.name) : undefined;
      return target ? [target.toLowerCase()] : [];
    }) : [],
  };
  const ctes = cteNames(stmt);
  const writes = new Set<string>();
  const reads = new Set<string>();
  const locking = new Set<string>();
  const advisory = new Set<string>();

  walk(
    stmt,
    (type, node) => {
      switch (type) {
        case 'RangeVar':
          if (isTableRef(node, ctes)) reads.add(String(node.relname).toLowerCase());
          break;
        case 'InsertStmt':
        case 'UpdateStmt':
        case 'DeleteStmt':
        case 'MergeStmt': {
          const rel = isObj(node.relation) ? str(node.relation.relname) : undefined;
          if (rel) writes.add(rel.toLowerCase());
          if (type === 'InsertStmt' && isObj(node.onConflictClause) && shape.onConflict === null) {
            const action = node.onConflictClause.action;
            if (action === 'ONCONFLICT_NOTHING') shape.onConflict = 'nothing';
            else if (action === 'ONCONFLICT_UPDATE') shape.onConflict = 'update';
          }
          if ((type === 'UpdateStmt' || type === 'DeleteStmt') && node.whereClause) {
            shape.predicate = true;
            if (conditionalWhere(node.whereClause)) shape.conditionalWrite = true;
          }
          if (type === 'MergeStmt') {
            if (node.joinCondition) shape.predicate = true;
            if (some(node.mergeWhenClauses, (t, n) => t === 'MergeWhenClause' && !!n.condition)) shape.conditionalWrite = true;
          }
          break;
        }
        case 'SelectStmt':
          if (node.whereClause && some(node.fromClause, (t, n) => t === 'RangeVar' && isTableRef(n, ctes))) shape.predicate = true;
          break;
        case 'JoinExpr':
          if (node.quals || (Array.isArray(node.usingClause) && node.usingClause.length > 0)) shape.predicate = true;
          break;
        case 'LockingClause': {
          const strength = LOCK_STRENGTHS[str(node.strength) ?? ''];
          if (strength) locking.add(strength);
          if (node.waitPolicy === 'LockWaitSkip') shape.skipLocked = true;
          if (node.waitPolicy === 'LockWaitError') shape.nowait = true;
          break;
        }
        case 'FuncCall': {
          const name = lastName(node.funcname)?.toLowerCase();
          if (name && /^pg_(try_)?advisory_/.test(name)) advisory.add(name);
          break;
        }
      }
    },
    NOT_READ_FIELDS,
  );

  shape.writes = [...writes];
  shape.reads = [...reads];
  shape.locking = [...locking];
  shape.advisoryLocks = [...advisory];
  return shape;
}

function literalsOf(tree: unknown): string[] {
  const found: { at: number; value: string }[] = [];
  walk(tree, (type, node) => {
    if (type === 'A_Const') {
      const value = stringValue(node.sval);
      if (value !== undefined) found.push({ at: typeof node.location === 'number' ? node.location : Infinity, value });
    }
  });
  // The tree's field order is not the text's (a WITH clause comes after the INSERT target): sort by position.
  return found.sort((a, b) => a.at - b.at).map((f) => f.value);
}

// ---------------------------------------------------------------------------------------------------------------
// Public API, memoised by text

interface Entry {
  analysis: SqlAnalysis;
  literals: string[] | null;
  key?: string | null;
}

const cache = new Map<string, Entry>();

function freezeShape(s: StatementShape): StatementShape {
  Object.freeze(s.writes);
  Object.freeze(s.reads);
  Object.freeze(s.locking);
  Object.freeze(s.advisoryLocks);
  Object.freeze(s.setColumns);
  return Object.freeze(s);
}

function entryFor(sql: string): Entry {
  requireLoaded();
  const hit = cache.get(sql);
  if (hit) {
    // Least recently used goes first: move the hit to the end.
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  let entry: Entry;
  try {
    const tree = parseSync(sql);
    const stmts = (tree.stmts ?? []).map((raw) => raw.stmt);
    const statements = stmts.map((s) => freezeShape(shapeOf(s)));
    entry = { analysis: Object.freeze({ statements: Object.freeze(statements) as StatementShape[] }), literals: Object.freeze(literalsOf(stmts)) as string[] };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    entry = { analysis: Object.freeze({ statements: Object.freeze([] as StatementShape[]) as StatementShape[], error: message }), literals: null, key: null };
  }
  if (sql.length <= CACHE_MAX_TEXT) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(sql, entry);
  }
  return entry;
}

/**
 * The shape of each statement in `sql` (several when the text holds several), or `error` with the parser's
 * message. Synchronous; call `loadSqlParser()` first. Results are memoised by text and frozen (shared).
 */
export function analyzeSql(sql: string): SqlAnalysis {
  return entryFor(sql).analysis;
}

/** Every string constant in the statement(s), decoded ('o''brien' → o'brien), in source order; null when it does not parse. */
export function stringLiterals(sql: string): string[] | null {
  return entryFor(sql).literals;
}

/** A stable key for the statement's shape (libpg-query fingerprint: constants and parameters ignored), or null when it does not parse. */
export function shapeKey(sql: string): string | null {
  const entry = entryFor(sql);
  if (entry.key === undefined) {
    try {
      entry.key = fingerprintSync(sql);
    } catch {
      entry.key = null;
    }
  }
  return entry.key;
}

/** True when the statement writes (insert/update/delete/merge, or a CTE that does). */
export function isWrite(s: StatementShape): boolean {
  return s.writes.length > 0 || s.kind === 'insert' || s.kind === 'update' || s.kind === 'delete' || s.kind === 'merge';
}

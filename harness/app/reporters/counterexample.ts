// Turns a check's counterexample (any JSON the checker chose) into groups of operations a report can show as
// tables: each violation with its reason, its scalar facts (seat, expected holder …) and the ops involved,
// each op labelled with its role in the violation (first, second, read …).

export interface CxOp {
  role: string;
  op: number;
  process: string;
  instance: number;
  f: string;
  args: string;
  outcome: string;
  startMs: number;
  endMs: number;
  value?: string;
}

export interface CxGroup {
  reason?: string;
  facts: string[];
  ops: CxOp[];
}

export interface FlatCounterexample {
  groups: CxGroup[];
  /** More violations than shown. */
  truncated: number;
  /** The op indexes named anywhere (for highlighting them on a timeline). */
  opIndexes: number[];
}

const text = (v: unknown, max = 120): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
};

const isOp = (v: unknown): v is Record<string, unknown> & { op: number } =>
  !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { op?: unknown }).op === 'number' && ('startMs' in v || 'outcome' in v);

function collectOps(v: unknown, role: string, out: CxOp[], depth = 0): void {
  if (depth > 5 || v === null || typeof v !== 'object') return;
  if (isOp(v)) {
    out.push({
      role,
      op: v.op,
      process: String(v.process ?? ''),
      instance: Number(v.instance ?? -1),
      f: String(v.f ?? ''),
      args: text(v.args ?? {}, 80),
      outcome: text(v.outcome ?? '', 140),
      startMs: Number(v.startMs ?? NaN),
      endMs: Number(v.endMs ?? NaN),
      ...(v.value !== undefined ? { value: text(v.value, 100) } : {}),
    });
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collectOps(x, role, out, depth + 1);
    return;
  }
  for (const [k, x] of Object.entries(v)) collectOps(x, /^\d+$/.test(k) ? role : k, out, depth + 1);
}

function group(v: unknown): CxGroup {
  const ops: CxOp[] = [];
  const facts: string[] = [];
  let reason: string | undefined;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (isOp(v)) collectOps(v, 'op', ops);
    else {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'reason' || k === 'message') reason = text(x, 400);
        else if (x === null || ['string', 'number', 'boolean'].includes(typeof x)) facts.push(`${k}: ${text(x, 80)}`);
        else collectOps(x, k, ops);
      }
    }
  } else if (Array.isArray(v)) collectOps(v, 'op', ops);
  else reason = text(v, 400);
  return { reason, facts, ops };
}

export function flattenCounterexample(cx: unknown, maxGroups = 8, maxOps = 12): FlatCounterexample {
  if (cx === undefined || cx === null) return { groups: [], truncated: 0, opIndexes: [] };
  let items: unknown[];
  if (Array.isArray(cx)) items = cx;
  else if (typeof cx === 'object' && !isOp(cx)) {
    // `{ conflicts: [...] }`: the array of violations is the interesting part; scalar siblings become a group of facts.
    const arrays = Object.entries(cx).filter(([, x]) => Array.isArray(x) && x.some((e) => e && typeof e === 'object'));
    items = arrays.length ? arrays.flatMap(([, x]) => x as unknown[]) : [cx];
  } else items = [cx];
  const groups = items.slice(0, maxGroups).map(group);
  const opIndexes = new Set<number>();
  const all: CxOp[] = [];
  for (const item of items.slice(0, 200)) collectOps(item, '', all);
  for (const o of all) opIndexes.add(o.op);
  for (const g of groups) g.ops = g.ops.slice(0, maxOps);
  return { groups, truncated: Math.max(0, items.length - maxGroups), opIndexes: [...opIndexes] };
}

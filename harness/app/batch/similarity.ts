// Similarity between submissions by winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003; docs/batch.md): each
// file's normalised tokens (tokens.ts) are cut into k-grams, each k-gram hashed, and in every window of w
// consecutive hashes the smallest is kept. The kept hashes are the fingerprints: any run of at least w + k − 1
// tokens two files share yields a shared fingerprint, and runs shorter than k never do. Hashes of the starter
// code and the contract (the `ignore` set, boilerplate.ts) are removed, so starting from the same stub is no match.
//
// Reported figure: `similarity` = shared fingerprints / the smaller set's size (the overlap coefficient), because
// copying is usually "took theirs and added to it": Jaccard (shared / union, also reported) falls as the copier
// adds code, the overlap does not. Its weakness, a small file inside a large one scoring high, is why an entry with
// fewer than `minFingerprints` fingerprints is never compared (listed as too small instead).
//
// Default threshold 65 %, measured on this repository (2026-12, k = 13, w = 6; similarity.test.ts logs the figures
// again): the 28 reference entries and 53 fixtures, 3,081 pairs with at least 20 fingerprints each.
//   different challenges (nothing in common but the language and the author's habits): at most 22 %;
//   same challenge, not derived from one another: at most 59 % (two fixtures of one author sharing a setup());
//     the references among themselves median 6 %; the seat-reservation ones at most 22 %, but for
//     optimistic-version ~ redis-lock-fencing (56 %: one table of write lambdas, SQL apart) and the pair below;
//   derived code (fixtures written as variants of one base, some of a reference, one bug put in each;
//     plain-for-update and plain-serializable, which share their helpers and most of their structure): 72–100 %.
// No pair falls between 60 % and 71 %: 65 % sits in that gap.

import { isGeneratedText } from '../../../rubric/evidence/sources.ts';
import { languageOf, tokenize, type Token } from './tokens.ts';

export const DEFAULTS = {
  /** Tokens per k-gram: shorter shared runs are never a match. */
  k: 13,
  /** Hashes per winnowing window: any shared run of w + k − 1 = 18 tokens or more is found. */
  w: 6,
  /** Fewer fingerprints than this (after the ignore set): not enough evidence, never compared. */
  minFingerprints: 20,
  /** Percent (overlap coefficient) from which a pair is listed: in the empty band between 59 % and 72 % (header). */
  threshold: 65,
  /** Matching regions kept per pair, longest first. */
  maxRegions: 3,
};

export interface FingerprintOptions {
  k?: number;
  w?: number;
}

/** One kept hash and where its k-gram sits. */
export interface Fingerprint {
  hash: number;
  file: string;
  /** Index of the k-gram's first token in the file's token stream. */
  pos: number;
  line: number;
  endLine: number;
}

export interface Fingerprints {
  /** In file order, then position order. */
  list: Fingerprint[];
  /** The distinct hashes of `list`. */
  hashes: Set<number>;
  /** Tokens of the source files after normalisation. */
  tokens: number;
  /** Fingerprints removed because they are in the ignore set. */
  ignored: number;
}

/** 32-bit FNV-1a of a string with a seed. */
function fnv(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const tokenHashCache = new Map<string, [number, number]>();
function tokenHash(t: string): [number, number] {
  let h = tokenHashCache.get(t);
  if (!h) tokenHashCache.set(t, (h = [fnv(t, 0x811c9dc5), fnv(t, 0x050c5d1f)]));
  return h;
}

/** The hash of every k-gram of a token stream: two 32-bit polynomial hashes folded into one safe integer (53 bits). */
export function kgramHashes(tokens: Token[], k = DEFAULTS.k): number[] {
  const out: number[] = [];
  const h = tokens.map((t) => tokenHash(t.t));
  for (let i = 0; i + k <= h.length; i++) {
    let a = 0;
    let b = 0;
    for (let j = i; j < i + k; j++) {
      a = (Math.imul(a, 0x9e3779b1) + h[j][0]) | 0;
      b = (Math.imul(b, 0x85ebca77) + h[j][1]) | 0;
    }
    out.push((a >>> 0) * 2 ** 21 + ((b >>> 0) >>> 11));
  }
  return out;
}

/** Robust winnowing: the index of the smallest hash of every window of w (the rightmost on ties), each once. */
export function winnow(hashes: number[], w = DEFAULTS.w): number[] {
  const out: number[] = [];
  if (!hashes.length) return out;
  const span = Math.min(w, hashes.length);
  let last = -1;
  for (let start = 0; start + span <= hashes.length; start++) {
    let min = start;
    for (let j = start + 1; j < start + span; j++) if (hashes[j] <= hashes[min]) min = j;
    if (min !== last) out.push((last = min));
  }
  return out;
}

/** Folders whose files are installed, built or cached, not written: two candidates sharing them share nothing. */
const NOT_WRITTEN = new Set(['node_modules', 'dist', 'build', 'coverage', '.next', '.turbo', 'vendor', '__pycache__', '.venv', 'venv', '.gauntlet']);
const MAX_FILE_CHARS = 512 * 1024;

/** Whether a file counts: source code someone wrote (not JSON or Markdown, not a declaration, bundle or generated file). */
export function isComparable(file: string, text: string): boolean {
  if (!languageOf(file) || /\.min\.[cm]?js$/i.test(file) || text.length > MAX_FILE_CHARS) return false;
  if (file.split(/[\\/]/).some((part) => NOT_WRITTEN.has(part))) return false;
  return !isGeneratedText(text);
}

/** The source files lexed, in name order; files that do not count (isComparable) are skipped. */
export function sourceTokens(files: Record<string, string>): { file: string; tokens: Token[] }[] {
  return Object.keys(files)
    .sort()
    .flatMap((file) => (isComparable(file, files[file]) ? [{ file, tokens: tokenize(files[file], languageOf(file)!) }] : []));
}

/** Every k-gram hash of the files, not only the winnowed ones: what an ignore set is made of. */
export function allHashes(files: Record<string, string>, opts: FingerprintOptions = {}): Set<number> {
  const out = new Set<number>();
  for (const { tokens } of sourceTokens(files)) for (const h of kgramHashes(tokens, opts.k)) out.add(h);
  return out;
}

/** The winnowed fingerprints of a submission's files, without those in `ignore`. */
export function fingerprintSource(files: Record<string, string>, ignore?: Set<number>, opts: FingerprintOptions = {}): Fingerprints {
  const k = opts.k ?? DEFAULTS.k;
  const list: Fingerprint[] = [];
  let tokens = 0;
  let ignored = 0;
  for (const { file, tokens: toks } of sourceTokens(files)) {
    tokens += toks.length;
    const hashes = kgramHashes(toks, k);
    for (const i of winnow(hashes, opts.w)) {
      if (ignore?.has(hashes[i])) {
        ignored++;
        continue;
      }
      list.push({ hash: hashes[i], file, pos: i, line: toks[i].line, endLine: toks[i + k - 1].line });
    }
  }
  return { list, hashes: new Set(list.map((f) => f.hash)), tokens, ignored };
}

export interface Overlap {
  shared: number;
  /** shared / the smaller set (0–1): the figure reported. */
  overlap: number;
  /** shared / the union (0–1). */
  jaccard: number;
}

export function overlapOf(shared: number, a: number, b: number): Overlap {
  const small = Math.min(a, b);
  const union = a + b - shared;
  return { shared, overlap: small ? shared / small : 0, jaccard: union ? shared / union : 0 };
}

/** How alike two fingerprint sets are. */
export function compareFingerprints(a: Fingerprints, b: Fingerprints): Overlap {
  let shared = 0;
  const [small, large] = a.hashes.size <= b.hashes.size ? [a.hashes, b.hashes] : [b.hashes, a.hashes];
  for (const h of small) if (large.has(h)) shared++;
  return overlapOf(shared, a.hashes.size, b.hashes.size);
}

export interface LineRange {
  file: string;
  from: number;
  to: number;
}

/** A stretch of code both sides share: consecutive shared fingerprints in the same order on both sides. */
export interface Region {
  a: LineRange;
  b: LineRange;
  fingerprints: number;
}

/**
 * The longest regions two fingerprint sets share. Shared fingerprints are chained in a's order while both sides
 * move forward in the same files with gaps of at most 2 (k + w) tokens (an edit breaks k k-grams, not the region).
 */
/** Fingerprints a region needs to be listed after the first (fewer: a line or two, likely an idiom). */
const MIN_REGION = 3;

export function matchingRegions(a: Fingerprints, b: Fingerprints, max = DEFAULTS.maxRegions, opts: FingerprintOptions = {}): Region[] {
  const gap = 2 * ((opts.k ?? DEFAULTS.k) + (opts.w ?? DEFAULTS.w));
  const inB = new Map<number, Fingerprint[]>();
  for (const f of b.list) {
    if (!a.hashes.has(f.hash)) continue;
    const at = inB.get(f.hash);
    if (at) {
      if (at.length < 8) at.push(f);
    } else inB.set(f.hash, [f]);
  }
  interface Run { fa: string; fb: string; lastA: number; lastB: number; a: LineRange; b: LineRange; n: number }
  const runs: Run[] = [];
  let open: Run[] = [];
  for (const fa of a.list) {
    const matches = inB.get(fa.hash);
    if (!matches) continue;
    open = open.filter((r) => r.fa === fa.file && fa.pos - r.lastA <= gap);
    let extended = false;
    for (const fb of matches) {
      const run = open.find((r) => r.fb === fb.file && fb.pos > r.lastB && fb.pos - r.lastB <= gap);
      if (!run) continue;
      run.lastA = fa.pos;
      run.lastB = fb.pos;
      run.a.from = Math.min(run.a.from, fa.line);
      run.a.to = Math.max(run.a.to, fa.endLine);
      run.b.from = Math.min(run.b.from, fb.line);
      run.b.to = Math.max(run.b.to, fb.endLine);
      run.n++;
      extended = true;
      break;
    }
    if (extended) continue;
    for (const fb of matches.slice(0, 2)) {
      const run: Run = { fa: fa.file, fb: fb.file, lastA: fa.pos, lastB: fb.pos, a: { file: fa.file, from: fa.line, to: fa.endLine }, b: { file: fb.file, from: fb.line, to: fb.endLine }, n: 1 };
      runs.push(run);
      open.push(run);
    }
  }
  const best: Region[] = [];
  for (const r of runs.sort((x, y) => y.n - x.n || y.a.to - y.a.from - (x.a.to - x.a.from))) {
    // One region per stretch of a: a second chain over the same lines (a repeated idiom in b) adds nothing; a
    // chain of one or two fingerprints (a line or two) is only shown when there is nothing longer.
    if (best.some((g) => g.a.file === r.a.file && g.a.from <= r.a.to && r.a.from <= g.a.to)) continue;
    if (best.length && r.n < MIN_REGION) break;
    best.push({ a: r.a, b: r.b, fingerprints: r.n });
    if (best.length >= max) break;
  }
  return best;
}

/** Something to compare: a graded run, or a reference solution (`reference:<challenge>/<name>`). */
export interface Comparand {
  id: string;
  label: string;
  fingerprints: Fingerprints;
  /** Comparands of one group are never paired (runs of the same submission). */
  group?: string;
}

export interface SimilarPair {
  a: string;
  aLabel: string;
  b: string;
  bLabel: string;
  /** Percent, shared fingerprints / the smaller set (rounded). */
  similarity: number;
  /** Percent, shared / union (rounded). */
  jaccard: number;
  shared: number;
  /** Fingerprints of a and of b (after the ignore set). */
  sizes: [number, number];
  regions: Region[];
}

export interface PairOptions extends FingerprintOptions {
  /** Percent from which a pair is listed (DEFAULTS.threshold). */
  threshold?: number;
  minFingerprints?: number;
  maxRegions?: number;
}

export const tooSmallToCompare = (c: Comparand, min = DEFAULTS.minFingerprints) => c.fingerprints.hashes.size < min;

/**
 * Pairs of entries, and of an entry and a reference, at or above the threshold, most similar first. Shared
 * fingerprints are counted through an inverted index (hash → comparands holding it), so the cost is the number of
 * co-occurrences, not the number of pairs times their sizes. References are not compared with each other.
 */
export function similarPairs(entries: Comparand[], references: Comparand[], opts: PairOptions = {}): SimilarPair[] {
  const threshold = opts.threshold ?? DEFAULTS.threshold;
  const min = opts.minFingerprints ?? DEFAULTS.minFingerprints;
  const comparable = entries.filter((c) => !tooSmallToCompare(c, min));
  const all = [...comparable, ...references.filter((c) => !tooSmallToCompare(c, min))];
  const nEntries = comparable.length;
  const n = all.length;
  const index = new Map<number, number[]>();
  all.forEach((c, i) => {
    for (const h of c.fingerprints.hashes) {
      const list = index.get(h);
      if (list) list.push(i);
      else index.set(h, [i]);
    }
  });
  const dense = n * n <= 16_000_000;
  const counts = dense ? new Uint32Array(n * n) : null;
  const sparse = dense ? null : new Map<number, number>();
  for (const list of index.values()) {
    if (list.length < 2) continue;
    // Lists are in comparand order: entries come first, so x < y and x < nEntries keeps entry–entry and entry–reference.
    for (let p = 0; p < list.length && list[p] < nEntries; p++) {
      const base = list[p] * n;
      for (let q = p + 1; q < list.length; q++) {
        if (counts) counts[base + list[q]]++;
        else sparse!.set(base + list[q], (sparse!.get(base + list[q]) ?? 0) + 1);
      }
    }
  }
  const pairs: SimilarPair[] = [];
  const consider = (x: number, y: number, shared: number) => {
    const a = all[x];
    const b = all[y];
    if (a.group !== undefined && a.group === b.group) return;
    const o = overlapOf(shared, a.fingerprints.hashes.size, b.fingerprints.hashes.size);
    if (o.overlap * 100 < threshold) return;
    pairs.push({
      a: a.id,
      aLabel: a.label,
      b: b.id,
      bLabel: b.label,
      similarity: Math.round(o.overlap * 100),
      jaccard: Math.round(o.jaccard * 100),
      shared,
      sizes: [a.fingerprints.hashes.size, b.fingerprints.hashes.size],
      regions: matchingRegions(a.fingerprints, b.fingerprints, opts.maxRegions, opts),
    });
  };
  if (counts) {
    for (let x = 0; x < nEntries; x++) for (let y = x + 1; y < n; y++) if (counts[x * n + y]) consider(x, y, counts[x * n + y]);
  } else for (const [key, shared] of sparse!) consider(Math.floor(key / n), key % n, shared);
  return pairs.sort((p, q) => q.similarity - p.similarity || q.shared - p.shared || p.a.localeCompare(q.a) || p.b.localeCompare(q.b));
}

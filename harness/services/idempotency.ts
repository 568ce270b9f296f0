// Stripe-style idempotency keys for one service (keys are shared by all instances, like one account's): a result is
// stored once execution began; the same key replays it, another request under it is 422, a concurrent one is 409.

export interface StoredResult {
  status: number;
  body: unknown;
  /** The attempt that executed. */
  attempt: number;
}

interface Entry {
  fingerprint: string;
  state: 'in-flight' | 'done';
  result?: StoredResult;
}

export type Lookup =
  | { kind: 'new'; release(result: StoredResult | null): void }
  | { kind: 'replay'; result: StoredResult }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  /**
   * Look a key up for a request with this fingerprint. `new` locks the key (in flight) until `release` is called with
   * the result to store, or with null to store nothing (a validation error: the key stays free, as with Stripe).
   */
  begin(key: string, fingerprint: string): Lookup {
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (entry.state === 'in-flight') return { kind: 'in-progress' };
      return { kind: 'replay', result: entry.result! };
    }
    const fresh: Entry = { fingerprint, state: 'in-flight' };
    this.entries.set(key, fresh);
    return {
      kind: 'new',
      release: (result) => {
        if (this.entries.get(key) !== fresh) return;
        if (result) {
          fresh.state = 'done';
          fresh.result = result;
        } else {
          this.entries.delete(key);
        }
      },
    };
  }

  get size(): number {
    return this.entries.size;
  }
}

/** What makes two requests "the same request": method, path (without query) and the body's content (key order ignored). */
export function fingerprintOf(method: string, path: string, body: unknown, rawBody: string): string {
  const content = body === undefined ? (rawBody ? `raw:${rawBody}` : '') : canonicalJson(body);
  return `${method} ${path.split('?')[0]} ${content}`;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal (Stripe compares parameters, not bytes). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

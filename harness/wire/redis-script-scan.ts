// What a Lua script sent to Redis (EVAL, EVALSHA, SCRIPT LOAD) may do outside the scenario's database. A script
// runs inside the selected database, but Redis 7 lets it call SELECT (then write to any database), MOVE, SWAPDB,
// FLUSHALL, MIGRATE, COPY ... DB, SLOWLOG. The body is tokenized (comments dropped, string escapes decoded) and
// each forbidden name is looked for as a call's first argument, or anywhere when the script calls redis with a
// computed command name (the caller then checks the script's arguments too). This is best effort: Lua can build
// a name by concatenation. The commands a script may not call at all in Redis 7 (CONFIG, SHUTDOWN, DEBUG,
// CLIENT, ACL, ...) need no check. Verdicts are kept by SHA1, so an EVALSHA can be judged by a script read before.

import { createHash } from 'node:crypto';

/** Commands a Lua script may call in Redis 7 that leave the selected database (or reach the whole server). */
export const SCRIPT_FORBIDDEN = new Set(['flushall', 'swapdb', 'select', 'move', 'migrate', 'slowlog']);

export interface ScriptVerdict {
  /** A forbidden command the script calls by a literal name. */
  bad?: string;
  /** It calls redis with a computed name: the call's arguments are checked against the forbidden names. */
  dynamic: boolean;
  /** It names COPY; refused when it also names DB (or an argument is DB). */
  copy: boolean;
  db: boolean;
}

/** Verdicts by SHA1, shared by every proxy in the process (a script's body does not depend on the scenario). */
const scriptVerdicts = new Map<string, ScriptVerdict>();
const SCRIPT_CACHE_MAX = 10_000;

/** The verdict on a script body, remembered under its SHA1 for knownScript(). */
export function inspectScript(body: Buffer): ScriptVerdict {
  const sha = createHash('sha1').update(body).digest('hex');
  let verdict = scriptVerdicts.get(sha);
  if (!verdict) {
    verdict = inspectLua(body.toString('latin1'));
    if (scriptVerdicts.size >= SCRIPT_CACHE_MAX) scriptVerdicts.clear();
    scriptVerdicts.set(sha, verdict);
  }
  return verdict;
}

/** The verdict on the script with this SHA1 (hex, any case), if its body was inspected; undefined otherwise. */
export function knownScript(sha: Buffer): ScriptVerdict | undefined {
  return scriptVerdicts.get(sha.toString('latin1').toLowerCase());
}

type LuaToken = { t: 'name' | 'str' | 'punct'; v: string };
const LUA_KEYWORDS = new Set(['and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'if', 'in', 'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while']);

/** Tokens of a Lua 5.1 chunk: names, string literals (escapes decoded), punctuation; comments dropped. */
function luaTokens(src: string): LuaToken[] {
  const out: LuaToken[] = [];
  const n = src.length;
  let i = 0;
  const longBracket = (at: number): number => {
    // '[' '='* '[' at `at`: the level, or -1
    if (src[at] !== '[') return -1;
    let j = at + 1;
    while (src[j] === '=') j++;
    return src[j] === '[' ? j - at - 1 : -1;
  };
  const skipLong = (at: number, level: number): { text: string; end: number } => {
    const open = at + level + 2;
    const close = ']' + '='.repeat(level) + ']';
    const end = src.indexOf(close, open);
    if (end === -1) return { text: src.slice(open), end: n };
    return { text: src.slice(open, end), end: end + close.length };
  };
  while (i < n) {
    const c = src[i];
    if (c === '-' && src[i + 1] === '-') {
      const level = longBracket(i + 2);
      if (level >= 0) i = skipLong(i + 2, level).end;
      else {
        const nl = src.indexOf('\n', i);
        i = nl === -1 ? n : nl + 1;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      let v = '';
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < n) {
          const e = src[j + 1];
          if (/[0-9]/.test(e)) {
            let digits = '';
            let k = j + 1;
            while (k < n && digits.length < 3 && /[0-9]/.test(src[k])) digits += src[k++];
            v += String.fromCharCode(Number(digits) & 0xff);
            j = k;
            continue;
          }
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v' };
          v += map[e] ?? e;
          j += 2;
          continue;
        }
        if (src[j] === '\n') break; // unfinished string: Lua would not compile it
        v += src[j++];
      }
      out.push({ t: 'str', v });
      i = j + 1;
      continue;
    }
    if (c === '[') {
      const level = longBracket(i);
      if (level >= 0) {
        const { text, end } = skipLong(i, level);
        out.push({ t: 'str', v: text.startsWith('\n') ? text.slice(1) : text });
        i = end;
        continue;
      }
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
      out.push({ t: 'name', v: src.slice(i, j) });
      i = j;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(src[j])) j++;
      out.push({ t: 'punct', v: '0' });
      i = j;
      continue;
    }
    out.push({ t: 'punct', v: c });
    i++;
  }
  return out;
}

/** Best-effort reading of a script body (see the header); exported for tests. */
export function inspectLua(src: string): ScriptVerdict {
  const toks = luaTokens(src);
  let dynamic = false;
  const atCall = new Set<string>();
  const anywhere = new Set<string>();
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k];
    const prev = toks[k - 1];
    if (tok.t === 'str') {
      const v = tok.v.toLowerCase();
      if (SCRIPT_FORBIDDEN.has(v) || v === 'copy' || v === 'db') {
        anywhere.add(v);
        // A call's first argument: f('x'), or Lua's f 'x' form.
        const callPos = !!prev && (prev.v === '(' || prev.v === ')' || prev.v === ']' || (prev.t === 'name' && !LUA_KEYWORDS.has(prev.v)));
        if (callPos) atCall.add(v);
      }
      continue;
    }
    if (tok.t !== 'name' || !/call$/i.test(tok.v)) continue;
    const next = toks[k + 1];
    if (next?.v === '(') {
      if (toks[k + 2]?.t !== 'str') dynamic = true; // redis.call(cmd, ...), rcall(ARGV[1], ...)
    } else if (next?.t !== 'str' && prev?.v === '.' && toks[k - 2]?.v === 'redis') {
      // redis.call passed around: fine when aliased to a name ending in "call" (local rcall = redis.call),
      // whose call sites are checked above; anything else may call it with any name.
      const aliased = toks[k - 3]?.v === '=' && toks[k - 4]?.t === 'name' && /call$/i.test(toks[k - 4].v);
      if (!aliased) dynamic = true;
    }
  }
  const named = dynamic ? anywhere : atCall;
  const bad = [...named].find((v) => SCRIPT_FORBIDDEN.has(v));
  return { bad, dynamic, copy: named.has('copy'), db: anywhere.has('db') };
}

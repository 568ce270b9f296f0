// What the Lua script scan finds in a script body: forbidden commands called by a literal name (any case,
// escapes, long strings, through an alias), calls with a computed name, COPY ... DB; nothing in comments.

import { describe, expect, it } from 'vitest';
import { inspectLua } from './redis-script-scan.ts';

describe('Lua script scan', () => {
  it('script inspection: literal call names, aliases, computed names', () => {
    expect(inspectLua("return redis.call('GET', KEYS[1])")).toMatchObject({ dynamic: false });
    expect(inspectLua("return redis.call('GET', KEYS[1])").bad).toBeUndefined();
    expect(inspectLua('redis.call("FlushAll")').bad).toBe('flushall');
    expect(inspectLua("local rcall = redis.call\nrcall('SELECT', 2)").bad).toBe('select');
    expect(inspectLua("redis.call [[move]]").bad).toBe('move');
    expect(inspectLua("-- redis.call('flushall')\nreturn redis.call('HSET', KEYS[1], 'select', 'move')").bad).toBeUndefined();
    expect(inspectLua('local c = ARGV[1]\nreturn redis.call(c)')).toMatchObject({ dynamic: true });
    expect(inspectLua("local c = 'swapdb'\nreturn redis.call(c, 0, 1)").bad).toBe('swapdb');
    expect(inspectLua("local f = redis.pcall\nreturn f(ARGV[1])").dynamic).toBe(true);
    expect(inspectLua("return redis.call('copy', KEYS[1], KEYS[2], 'db', 3)")).toMatchObject({ copy: true, db: true });
    expect(inspectLua("return redis.call('\\115elect', 1)").bad).toBe('select');
  });
});

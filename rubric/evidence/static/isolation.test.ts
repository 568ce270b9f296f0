// Strict isolation levels in SQL text (through constants and templates) and in library options; READ COMMITTED
// and plain BEGIN are not strict.

import { describe, expect, it } from 'vitest';
import { findStrictIsolation } from './isolation.ts';
import { detect } from './testing.ts';

const lines = (src: string) => detect(findStrictIsolation, src).map((r) => r.line);

describe('strict isolation', () => {
  it('finds SERIALIZABLE and REPEATABLE READ, in strings, resolved templates and options', () => {
    const src = `const LEVEL = 'SERIALIZABLE';
export async function f(client, knex) {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await client.query(\`SET TRANSACTION ISOLATION LEVEL \${LEVEL}\`);
  await knex.transaction(async () => {}, { isolationLevel: 'serializable' });
}`;
    expect(lines(src)).toEqual([3, 4, 5]);
  });

  it('ignores READ COMMITTED and plain BEGIN', () => {
    expect(lines(`export async function f(c) { await c.query('BEGIN'); await c.query('BEGIN ISOLATION LEVEL READ COMMITTED'); }`)).toEqual([]);
  });
});

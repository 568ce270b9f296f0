// The `gauntlet` module a submission imports (`import { SeatTakenError } from 'gauntlet'`), made from the contract
// files of the challenges being graded: the common part (contract-types.ts) and each challenge's contract.ts. The
// instance bundle and the type-check evidence load it; the starter kit writes it out as declarations. The kernel
// names no challenge: the caller passes the contract files its registry declares.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type TS from 'typescript';

export const CONTRACT_BASE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'contract-types.ts');

/** The module's source: re-exports of the common contract and of each challenge's contract file (absolute paths). */
export function gauntletModuleSource(contracts: string[]): string {
  return [CONTRACT_BASE, ...contracts].map((f) => `export * from ${JSON.stringify(f)};`).join('\n') + '\n';
}

/** The module as an ambient declaration (`declare module 'gauntlet' { ... }`) for a candidate's own folder. */
export function gauntletDeclarations(ts: typeof TS, read: (file: string) => string, contracts: string[]): string {
  const body = [CONTRACT_BASE, ...contracts]
    .map((f) => ts.transpileDeclaration(read(f), { fileName: f, reportDiagnostics: false }).outputText)
    .join('\n')
    .split('\n')
    .filter((l) => !/^\s*import\s/.test(l) && !/^\s*\/\/#/.test(l) && !/^export \{\};?$/.test(l.trim()))
    .map((l) => l.replace(/^export declare /, 'export '))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return [
    "// The gauntlet contract's types (CONTRACT §2–§3), for `import type ... from 'gauntlet'`.",
    "declare module 'gauntlet' {",
    "  type Pool = import('pg').Pool;",
    "  type Redis = import('ioredis').Redis;",
    ...body.split('\n').map((l) => (l ? '  ' + l : l)),
    '}',
    '',
  ].join('\n');
}

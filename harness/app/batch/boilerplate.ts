// What every candidate starts from and must write against, so it never counts as similarity: each challenge's
// starter (the stub `gauntlet init` writes) and contract file, and the contract's common part. Every k-gram hash of
// these (not only the winnowed ones: a submission's windows may pick other hashes of the same stretch) is the
// ignore set that fingerprintSource subtracts.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { challenges } from '../../../challenges/index.ts';
import { allHashes, type FingerprintOptions } from './similarity.ts';

const COMMON_CONTRACT = fileURLToPath(new URL('../../contract-types.ts', import.meta.url));

/** The starters and contract files of the registered challenges, by a descriptive name. */
export function boilerplateFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of challenges) {
    files[`starter/${c.id}/${c.file}.ts`] = c.starter;
    if (fs.existsSync(c.contract)) files[`contract/${c.id}/contract.ts`] = fs.readFileSync(c.contract, 'utf8');
  }
  if (fs.existsSync(COMMON_CONTRACT)) files['contract/contract-types.ts'] = fs.readFileSync(COMMON_CONTRACT, 'utf8');
  return files;
}

/** The ignore set: every k-gram hash of the boilerplate files (and of any extra files given, e.g. a custom starter). */
export function boilerplateHashes(extra: Record<string, string> = {}, opts: FingerprintOptions = {}): Set<number> {
  return allHashes({ ...boilerplateFiles(), ...extra }, opts);
}

// The `gauntlet` module for type checks inside this repository: references, fixtures and examples resolve
// 'gauntlet' through package.json's exports to this file. At run time the harness builds the same module from the
// registry (harness/gauntlet-module.ts), so a new challenge works without a line here; add one so that in-repo
// `tsc` sees its types too (test/registry.test.ts names a missing one).

export * from '../harness/contract-types.ts';
export * from './seat-reservation/contract.ts';
export * from './payment-webhook/contract.ts';
export * from './subscription/contract.ts';
export * from './notification-fanout/contract.ts';
export * from './subscription-reads/contract.ts';

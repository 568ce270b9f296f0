// `gauntlet compare --batch`: the public surface of harness/app/batch/ for the CLI — build the report from the
// batch's runs, render it; the pieces (tokens, fingerprints, references, the ignore set) for tests and tools.

export { buildBatchReport, rankRuns, failedChecks, VERDICT_ORDER, type BatchEntry, type BatchOptions, type BatchReport, type RankRow, type TooSmall, type Verdict } from './batch-report.ts';
export { renderBatchTerminal, renderBatchMarkdown } from './render.ts';
export { DEFAULTS as SIMILARITY_DEFAULTS, fingerprintSource, compareFingerprints, similarPairs, matchingRegions, type Comparand, type Fingerprints, type SimilarPair, type Region } from './similarity.ts';
export { loadReferences, type ReferenceSource } from './references.ts';
export { boilerplateFiles, boilerplateHashes } from './boilerplate.ts';
export { tokenize, languageOf, type Token, type Language } from './tokens.ts';

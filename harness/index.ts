// The programmatic API: grade(options) → GradeResult (the --json document), and what goes with it. The
// application layer (harness/app/) holds it; this file keeps the documented entry point.

export * from './app/grade.ts';

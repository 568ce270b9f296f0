// Test runner configuration for `npm test`: real sockets and databases, so generous timeouts. Three groups, one
// after another: the unit files (vitest.unit.config.ts: no database, no instance) two at a time, sharing module
// instances within a worker (isolate: false: each file's imports are paid once per worker, not once per file —
// so a test must never mutate what a module exports, e.g. sort a shared array in place); then the files that time
// calls or CPU, one at a time on a machine nothing else of the suite keeps busy; then the integration files, one at
// a time (the machine has two cores; parallel grades would distort timing). No folder named node_modules is
// searched, at any depth: a stack fixture's installed packages (fixtures/stacks/*/node_modules) ship test files of
// their own, which are not gauntlet's.
import { defineConfig } from 'vitest/config';
import { UNIT_FILES, unitProjects } from './vitest.unit.config.ts';

const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };
const exclude = ['**/node_modules/**', '.gauntlet/**'];

export default defineConfig({
  test: {
    projects: [
      ...unitProjects({ ...timeouts, exclude }),
      { test: { setupFiles: ['test/setup-cleanup.ts'], pool: 'forks', ...timeouts, name: 'integration', include: ['**/*.test.ts'], exclude: [...exclude, ...UNIT_FILES], fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});

// Test runner configuration: real sockets and databases, so generous timeouts and no file-level parallelism
// for the integration suites (the machine has two cores; parallel grades would distort timing). No folder named
// node_modules is searched, at any depth: a stack fixture's installed packages (fixtures/stacks/*/node_modules)
// ship test files of their own, which are not gauntlet's.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup-cleanup.ts'],
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '.gauntlet/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});

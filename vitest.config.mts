import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    // End-to-end tests wait on real services with their own, named deadlines; this only stops a hung test.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/support/postgres-run-dir.ts'],
    // Most test files wait on Azurite, PostgreSQL or the emulator rather than compute, so more files than
    // cores run at once; the slowest file (the package build) overlaps with the rest.
    maxWorkers: 4,
  },
});

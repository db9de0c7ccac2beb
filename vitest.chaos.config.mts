import { defineConfig } from 'vitest/config';

/** `npm run test:chaos`: the long chaos run alone, with no time limit but its own deadlines. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos-test.ts'],
    testTimeout: 0,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/support/postgres-run-dir.ts'],
  },
});

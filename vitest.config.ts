import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**'],
    // PGlite needs seconds to boot; real-time audio tests run for seconds too.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A 2-core CI machine: more workers only thrash.
    maxWorkers: 2,
    globalSetup: ['tests/global-setup.ts'],
  },
});

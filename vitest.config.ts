import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { databaseTestFiles } from './tests/helpers/database-files.js';
import { findPostgres } from './tests/helpers/postgres-server.js';

/**
 * Two projects: `pglite` runs every test on the embedded database; `postgres` runs again
 * every test file that opens a database, on a throwaway PostgreSQL server the global setup
 * starts. Without PostgreSQL's binaries (and pgvector) only the first runs.
 */
const postgres = findPostgres();
const projects: TestProjectInlineConfiguration[] = [
  {
    extends: true,
    test: {
      name: 'pglite',
      include: ['**/*.test.ts'],
      // Tests of several processes on one server need a real one.
      exclude: ['node_modules/**', '.data/**', 'tests/postgres/**'],
      provide: { databaseDriver: 'pglite' },
    },
  },
];
if ('binDir' in postgres) {
  projects.push({
    extends: true,
    test: {
      name: 'postgres',
      include: [...databaseTestFiles(import.meta.dirname), 'tests/postgres/**/*.test.ts'],
      provide: { databaseDriver: 'postgres', postgresBinDir: postgres.binDir },
    },
  });
} else {
  console.warn(`Tests on PostgreSQL skipped (${postgres.missing}): see README, "Tests".`);
}

export default defineConfig({
  test: {
    // Each project names its files: `extends` would add a shared `include` to both.
    exclude: ['node_modules/**', '.data/**'],
    // PGlite needs seconds to boot; real-time audio tests run for seconds too.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A 2-core CI machine: more workers only thrash.
    maxWorkers: 2,
    globalSetup: ['tests/global-setup.ts'],
    projects,
  },
});

import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { databaseTestFiles } from './tests/helpers/database-files.js';
import { findPostgres } from './tests/helpers/postgres-server.js';

/**
 * The files that run whole LiveKit conversations: a room server, a worker, a job process per
 * room and real-time audio each. Two of them side by side (or one beside the Chromium and voice
 * files) are more than two cores keep in real time: a job process took over 120 s to join
 * (tests/livekit/many-rooms.test.ts says what was measured). They run one at a time, after
 * everything else.
 */
const LIVEKIT_ROOM_FILES = [
  'tests/livekit/draining.test.ts',
  'tests/livekit/many-rooms.test.ts',
  'tests/livekit/mobile-app.test.ts',
  'tests/livekit/page.test.ts',
  'tests/livekit/room-leaving.test.ts',
  'tests/livekit/room-turns.test.ts',
];

/**
 * Three projects: `pglite` runs every test on the embedded database; `livekit` runs the
 * LiveKit conversation files (on the embedded database too), alone, when `pglite` and
 * `postgres` are done; `postgres` runs again every test file that opens a database, on a
 * throwaway PostgreSQL server the global setup starts. Without PostgreSQL's binaries (and
 * pgvector) that last one is left out.
 */
const postgres = findPostgres();
const projects: TestProjectInlineConfiguration[] = [
  {
    extends: true,
    test: {
      name: 'pglite',
      include: ['**/*.test.ts'],
      // Tests of several processes on one server need a real one.
      exclude: ['node_modules/**', '.data/**', 'tests/postgres/**', ...LIVEKIT_ROOM_FILES],
      provide: { databaseDriver: 'pglite' },
    },
  },
  {
    extends: true,
    test: {
      name: 'livekit',
      include: LIVEKIT_ROOM_FILES,
      provide: { databaseDriver: 'pglite' },
      maxWorkers: 1,
      sequence: { groupOrder: 1 },
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

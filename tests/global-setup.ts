import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../db/client.js';
import {
  POSTGRES_TEMPLATE,
  type PostgresServer,
  startPostgresServer,
} from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test project's database: `pglite` embedded, or `postgres` (a real server). */
    databaseDriver: 'pglite' | 'postgres';
    /** Where the PostgreSQL server binaries are (the `postgres` project only). */
    postgresBinDir?: string;
    /** The suite's PostgreSQL, as its superuser (the `postgres` project only). */
    postgresUrl?: string;
    /** A data directory holding a migrated embedded database; copy it, never open it. */
    databaseTemplateDir: string;
  }
}

/**
 * Creating an embedded database costs seconds; reopening a copy costs one. So the suite
 * migrates one template per run and every test file opens its own copy. The `postgres`
 * project also starts a throwaway PostgreSQL with a migrated template database, which every
 * test file copies into a database of its own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-db-template-'));
  const binDir = project.config.provide.postgresBinDir;
  const [server] = await Promise.all([
    binDir === undefined ? undefined : startMigratedPostgres(binDir),
    migrateTemplate(dir),
  ]);
  project.provide('databaseTemplateDir', dir);
  if (server !== undefined) project.provide('postgresUrl', server.url());
  return async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

async function migrateTemplate(dir: string): Promise<void> {
  const handle = await openDatabase({ dataDir: dir });
  await handle.migrate();
  await handle.close();
}

async function startMigratedPostgres(binDir: string): Promise<PostgresServer> {
  const server = await startPostgresServer({ binDir });
  try {
    const admin = await openDatabase({ url: server.url(), dataDir: 'unused', poolSize: 1 });
    await admin.db.execute(`create database ${POSTGRES_TEMPLATE}`);
    await admin.close();
    const template = await openDatabase({
      url: server.url(POSTGRES_TEMPLATE),
      dataDir: 'unused',
      poolSize: 1,
    });
    await template.migrate();
    await template.close();
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

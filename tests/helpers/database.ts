import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { inject } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../db/client.js';

export type TestDriver = 'pglite' | 'postgres';

export interface TestDatabase extends DatabaseHandle {
  /** The data directory of this copy (the embedded database lives below it). */
  dataDir: string;
  /**
   * With the `postgres` driver: the server drops every connection and refuses new ones for
   * `ms`, then serves again on the same port (a restart or network blip). Resolves when back.
   */
  outage(ms: number): Promise<void>;
}

/** A private copy of the migrated template, in its own temporary directory. */
export async function copyTemplate(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-db-'));
  await cp(inject('databaseTemplateDir'), dir, { recursive: true });
  return dir;
}

/**
 * Opens a migrated database for one test file through the production driver named:
 * `pglite` in-process, or `postgres` (postgres.js) against PGlite served over the
 * PostgreSQL wire protocol.
 */
export async function openTestDatabase(driver: TestDriver = 'pglite'): Promise<TestDatabase> {
  const dataDir = await copyTemplate();
  if (driver === 'pglite') {
    const handle = await openDatabase({ dataDir });
    const noServer: WireServer = {
      url: '',
      stop: async () => {},
      outage: () => Promise.reject(new Error('an embedded database has no outages')),
    };
    return withCleanup(handle, dataDir, noServer);
  }
  const server = await serveOverWire(dataDir);
  const handle = await openDatabase({ url: server.url, dataDir, poolSize: 1 });
  return withCleanup(handle, dataDir, server);
}

function withCleanup(handle: DatabaseHandle, dataDir: string, server: WireServer): TestDatabase {
  return {
    ...handle,
    dataDir,
    outage: server.outage,
    close: async () => {
      await handle.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WireServer {
  url: string;
  stop(): Promise<void>;
  outage(ms: number): Promise<void>;
}

/** Serves the embedded database on a free loopback port, as a PostgreSQL server would. */
export async function serveOverWire(dataDir: string, maxConnections = 1): Promise<WireServer> {
  const db = await PGlite.create(join(dataDir, 'pglite'), { extensions: { vector } });
  const port = await freePort();
  // PGlite runs one session: clients on several connections must not interleave transactions.
  const listen = async () => {
    const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections });
    await server.start();
    return server;
  };
  let server = await listen();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
    outage: async (ms) => {
      await server.stop();
      // A transaction cut off mid-way must not stay open in the one PGlite session.
      if (db.isInTransaction()) await db.exec('rollback');
      await new Promise((resolve) => setTimeout(resolve, ms));
      server = await listen();
    },
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

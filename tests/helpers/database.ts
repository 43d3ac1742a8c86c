import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../db/client.js';
import { freePort } from './ports.js';
import { POSTGRES_TEMPLATE } from './postgres-server.js';
import { createSessionGate, type SessionGate } from './session-gate.js';

export { freePort };

export type TestDriver = 'pglite' | 'postgres';

export interface TestDatabase extends DatabaseHandle {
  /** The data directory of this copy (the embedded database lives below it). */
  dataDir: string;
  /** With the `postgres` driver: a URL other processes can open (empty for embedded PGlite). */
  url: string;
  /**
   * With the `postgres` driver: the network between Parley and the server drops every
   * connection and refuses new ones for `ms`, then serves again on the same port (a blip
   * between an app and its database). Resolves when back.
   */
  outage(ms: number): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Connections this handle's postgres.js pool may open. */
  poolSize?: number;
  /**
   * Connections PGlite served over the wire accepts (default `poolSize`): more when other
   * processes open the URL too. A real PostgreSQL accepts plenty.
   */
  serverConnections?: number;
}

/** A private copy of the migrated template, in its own temporary directory. */
export async function copyTemplate(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-db-'));
  await cp(inject('databaseTemplateDir'), dir, { recursive: true });
  return dir;
}

/**
 * Opens a migrated database for one test file. The driver is the test project's
 * (`pglite` or `postgres`, see vitest.config.ts) unless named. `postgres` is postgres.js
 * against the suite's real PostgreSQL, a fresh database copied from the migrated template;
 * where the suite has no PostgreSQL, against PGlite served over the wire protocol.
 */
export async function openTestDatabase(
  driver: TestDriver = inject('databaseDriver'),
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
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
  const postgresUrl = inject('postgresUrl');
  const server =
    postgresUrl === undefined
      ? await serveOverWire(dataDir, options.serverConnections ?? options.poolSize ?? 1)
      : await createFromTemplate(postgresUrl);
  const handle = await openDatabase({ url: server.url, dataDir, poolSize: options.poolSize ?? 1 });
  return withCleanup(handle, dataDir, server);
}

function withCleanup(handle: DatabaseHandle, dataDir: string, server: WireServer): TestDatabase {
  return {
    ...handle,
    dataDir,
    url: server.url,
    outage: server.outage,
    close: async () => {
      await handle.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A new database on the suite's PostgreSQL, copied from the migrated template (a file copy:
 * milliseconds, where migrating costs a second), behind a cuttable proxy; dropped on stop.
 */
async function createFromTemplate(adminUrl: string): Promise<WireServer> {
  const name = `parley_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${POSTGRES_TEMPLATE} strategy file_copy`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const target = new URL(adminUrl);
  const proxy = await startProxy(Number(target.port));
  target.port = String(proxy.port);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    outage: proxy.outage,
    stop: async () => {
      await proxy.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
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
  // PGlite runs one session: the gate gives it to one connection at a time, a whole
  // request or transaction each (pglite-socket alone interleaves their messages).
  const server = new PGLiteSocketServer({
    db,
    port: await freePort(),
    host: '127.0.0.1',
    maxConnections,
  });
  await server.start();
  const proxy = await startProxy(
    Number(server.getServerConn().split(':').at(-1)),
    createSessionGate(),
  );
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${proxy.port}/postgres`,
    stop: async () => {
      await proxy.close();
      await server.stop();
      await db.close();
    },
    outage: proxy.outage,
  };
}

/**
 * A TCP hop between clients and the database, which a test can cut: the network between an
 * application and PostgreSQL going away, while the database itself keeps its state (an open
 * transaction of a cut connection is rolled back by the server, as PostgreSQL does).
 */
async function startProxy(target: number, gate?: SessionGate) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let listener: Server | undefined;
  const listen = async () => {
    listener = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      if (gate) gate.attach(client, upstream);
      else client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => listener?.listen(port, '127.0.0.1', resolve));
  };
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
  };
  await listen();
  return {
    port,
    close,
    outage: async (ms: number) => {
      await close();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await listen();
    },
  };
}

/** The rows of a raw `db.execute`: PGlite answers `{ rows }`, postgres.js the rows array. */
export function rowsOf<Row>(result: unknown): Row[] {
  return Array.isArray(result) ? [...result] : (result as { rows: Row[] }).rows;
}

/**
 * The databases the knowledge-at-size benchmark compares, each opened the way the product
 * opens it: embedded PGlite in a fresh data directory (on its own thread, or on the main
 * thread for contrast), and a real PostgreSQL with pgvector, a throwaway cluster started
 * with the suite's helper (durable settings: fsync and synchronous commit on).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type DatabaseHandle, openDatabase } from '../db/client.js';
import { findPostgres, startPostgresServer } from '../tests/helpers/postgres-server.js';
import { processesCpuMs } from './proc-cpu.js';

export type StoreKind = 'pglite' | 'pglite-main-thread' | 'postgres';

export interface Store {
  kind: StoreKind;
  handle: DatabaseHandle;
  /**
   * CPU milliseconds the database has used so far outside this process: PostgreSQL's server
   * processes (every one `pg_stat_activity` lists); 0 for PGlite, whose thread is in here.
   */
  serverCpuMs(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens and migrates a store, or says why it cannot (PostgreSQL not installed). `binDir`:
 * PostgreSQL's server binaries to run (default: the installed ones the tests use).
 */
export async function openStore(
  kind: StoreKind,
  options: { binDir?: string } = {},
): Promise<Store | { missing: string }> {
  if (kind !== 'postgres') {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
    const embedded = kind === 'pglite' ? 'thread' : 'main-thread';
    const handle = await openDatabase({ dataDir, embedded });
    await handle.migrate();
    return {
      kind,
      handle,
      serverCpuMs: async () => 0,
      close: async () => {
        await handle.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const install = options.binDir === undefined ? findPostgres() : { binDir: options.binDir };
  if ('missing' in install) return install;
  // Durable, as production runs: the helper's default skips fsync to speed up tests.
  const server = await startPostgresServer({ binDir: install.binDir, fast: false });
  const admin = postgres(server.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe('create database parley_bench');
  await admin.end();
  const handle = await openDatabase({ url: server.url('parley_bench'), dataDir: 'unused' });
  await handle.migrate();
  return {
    kind,
    handle,
    serverCpuMs: async () => {
      const rows = (await handle.db.execute(sql`select pid from pg_stat_activity`)) as unknown as {
        pid: number;
      }[]; // postgres.js answers the rows
      return processesCpuMs([...rows].map((row) => row.pid));
    },
    close: async () => {
      await handle.close();
      await server.stop();
    },
  };
}

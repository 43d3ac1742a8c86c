/**
 * One `Database` type over two drivers: postgres.js against PostgreSQL/Supabase when
 * `DATABASE_URL` is set, embedded PGlite (with pgvector) in the data directory otherwise.
 */
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { AppError } from '../core/errors.js';
import { lockDataDir, makePrivate, preparePrivateDataDir } from './data-dir.js';
import { PgliteThread } from './pglite-worker/client.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema>;
/** What a query function runs on: the database, or a transaction a caller opened. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  driver: 'pglite' | 'postgres';
  /** Resolves when the database answers a trivial query; throws `DATABASE.UNAVAILABLE` otherwise. */
  ping(): Promise<void>;
  /**
   * Applies pending migrations; idempotent, drizzle records what ran. Against a shared
   * PostgreSQL, token services and agent workers may start together, so the run holds an
   * advisory lock there.
   */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; unset means embedded PGlite. */
  url?: string | undefined;
  /** PGlite's directory. `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
  /**
   * Where PGlite runs: on a worker thread of its own (default; see pglite-worker/client.ts),
   * or on the calling thread (only to measure the difference).
   */
  embedded?: 'thread' | 'main-thread';
}

/** Opens the database named by the options. Does not migrate: see `migrate.ts`. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url === undefined
    ? openPglite(options.dataDir, options.embedded ?? 'thread')
    : openPostgres(options.url, options.poolSize ?? 10);
}

async function openPglite(dataDir: string, where: Where): Promise<DatabaseHandle> {
  if (dataDir === 'memory://') return pgliteHandle(await createPglite(dataDir, where));
  // Private and exclusive before PGlite writes anything: see data-dir.ts.
  const dir = await preparePrivateDataDir(dataDir);
  const lock = await lockDataDir(dir);
  try {
    const location = join(dir, 'pglite');
    const client = await createPglite(location, where);
    await makePrivate(location);
    return pgliteHandle(client, async () => {
      try {
        await makePrivate(location);
      } finally {
        lock.release();
      }
    });
  } catch (error) {
    lock.release();
    throw error;
  }
}

type Where = NonNullable<DatabaseOptions['embedded']>;
type EmbeddedClient = PGlite | PgliteThread;

function createPglite(location: string, where: Where): Promise<EmbeddedClient> {
  return where === 'thread'
    ? PgliteThread.start(location)
    : PGlite.create(location, { extensions: { vector } });
}

/** `afterClose` runs once the client has closed, whether or not that went well. */
function pgliteHandle(client: EmbeddedClient, afterClose?: () => Promise<void>): DatabaseHandle {
  // drizzle's PGlite driver calls only `query` and `transaction`, which PgliteThread offers.
  const pglite = drizzlePglite({ client: client as PGlite, schema, casing: 'snake_case' });
  const db = pglite as unknown as Database;
  return {
    db,
    driver: 'pglite',
    ping: () => pingWith(db, 'the embedded database'),
    migrate: () => migrating(() => migratePglite(pglite, { migrationsFolder: MIGRATIONS_FOLDER })),
    close: async () => {
      try {
        await client.close();
      } finally {
        await afterClose?.();
      }
    },
  };
}

async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    // Supabase's transaction pooler (port 6543) cannot keep prepared statements.
    prepare: new URL(url).port !== '6543',
    connect_timeout: 10,
  });
  const db = drizzlePostgres({ client, schema, casing: 'snake_case' }) as unknown as Database;
  const target = describeUrl(url);
  await pingWith(db, target);
  return {
    db,
    driver: 'postgres',
    ping: () => pingWith(db, target),
    migrate: () => migrating(() => migratePostgresLocked(url)),
    close: () => client.end({ timeout: 5 }),
  };
}

/** Any number that is Parley's alone, so concurrent starters serialise their migrations. */
const MIGRATION_LOCK_ID = 7_263_540_129;

async function migratePostgresLocked(url: string): Promise<void> {
  // A session-level advisory lock needs lock, migrate and unlock on one connection: a pool
  // of one gives exactly that, and drizzle's migrator can open its transaction on it.
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    const db = drizzlePostgres({ client, schema, casing: 'snake_case' });
    await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

async function migrating(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    throw new AppError('DATABASE.UNAVAILABLE', `Database migration failed: ${reason(error)}`, {
      cause: error,
    });
  }
}

async function pingWith(db: Database, target: string): Promise<void> {
  try {
    await db.execute(sql`select 1`);
  } catch (error) {
    throw new AppError('DATABASE.UNAVAILABLE', `Cannot reach ${target}: ${reason(error)}`, {
      cause: error,
    });
  }
}

/** `host:port/database` of a URL, never its password. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return typeof code === 'string' && !error.message.includes(code)
    ? `${code} ${error.message}${inner}`
    : `${error.message}${inner}`;
}

/** The migrations folder, wherever the process was started from. */
export const MIGRATIONS_FOLDER = join(import.meta.dirname, 'migrations');

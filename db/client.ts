/**
 * One `Database` type over two drivers: postgres.js against PostgreSQL/Supabase when
 * `DATABASE_URL` is set, embedded PGlite (with pgvector) in the data directory otherwise.
 */
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import {
  type PgDatabase,
  PgDialect,
  type PgQueryResultHKT,
  type PgSession,
  type PgTransaction,
} from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
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
  /**
   * Where knowledge ingestion writes. On PostgreSQL, connections of its own, at most
   * {@link INGESTION_POOL_SIZE} and opened on first use: when every connection of `db`'s pool
   * is busy, postgres.js queues a query behind one already running on a connection, and
   * there it would wait for a ~150 ms INSERT into the HNSW index. Embedded PGlite: `db`.
   */
  ingestion: Database;
  driver: 'pglite' | 'postgres';
  /** Resolves when the database answers a trivial query; throws `DATABASE.UNAVAILABLE` otherwise. */
  ping(): Promise<void>;
  /**
   * Applies pending migrations; idempotent, drizzle records what ran. Against a shared
   * PostgreSQL, token services and agent workers may start together, so the run holds an
   * advisory lock there ({@link MIGRATION_LOCK_ID}): one applies, the others wait and find
   * nothing left to do.
   */
  migrate(): Promise<MigrationReport>;
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
  /**
   * PostgreSQL's `application_name` for this process's connections (its role: `parley-api`,
   * `parley-job`, ...), so `pg_stat_activity` tells who holds what.
   */
  applicationName?: string;
}

/** What one `migrate()` did, for the start-up log. */
export interface MigrationReport {
  /** Migrations this call applied; 0 when another process (or an earlier start) had. */
  applied: number;
  /** How long this call waited for another process's migration to finish. */
  lockWaitMs: number;
}

/** Opens the database named by the options. Does not migrate: see `migrate.ts`. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url === undefined
    ? openPglite(options.dataDir, options.embedded ?? 'thread')
    : openPostgres(options.url, options.poolSize ?? 10, options.applicationName);
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
    ingestion: db,
    driver: 'pglite',
    ping: () => pingWith(db, 'the embedded database'),
    migrate: () =>
      migrating(async () => {
        const before = await appliedMigrations(db);
        await migratePglite(pglite, { migrationsFolder: MIGRATIONS_FOLDER });
        return { applied: (await appliedMigrations(db)) - before, lockWaitMs: 0 };
      }),
    close: async () => {
      try {
        await client.close();
      } finally {
        await afterClose?.();
      }
    },
  };
}

/**
 * Connections ingestion may hold besides the pool, and so the most statements its store plan
 * runs at once on a server (`SERVER_STORE_PLAN` in agent/knowledge/ingest.ts).
 */
export const INGESTION_POOL_SIZE = 3;

async function openPostgres(
  url: string,
  poolSize: number,
  applicationName = 'parley',
): Promise<DatabaseHandle> {
  const client = postgresClient(url, poolSize, applicationName);
  // Named apart (`parley-api-ingestion`, ...) so pg_stat_activity shows what ingestion holds.
  const ingestionClient = postgresClient(url, INGESTION_POOL_SIZE, `${applicationName}-ingestion`);
  const db = drizzleOver(client);
  const ingestion = drizzleOver(ingestionClient);
  const target = describeUrl(url);
  await pingWith(db, target);
  return {
    db,
    ingestion,
    driver: 'postgres',
    ping: () => pingWith(db, target),
    migrate: () => migrating(() => migratePostgresLocked(db)),
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), ingestionClient.end({ timeout: 5 })]);
    },
  };
}

function drizzleOver(client: ReturnType<typeof postgresClient>): Database {
  return drizzlePostgres({ client, schema, casing: 'snake_case' }) as unknown as Database;
}

function postgresClient(url: string, max: number, applicationName: string) {
  return postgres(url, {
    max,
    onnotice: () => {},
    // Supabase's transaction pooler (port 6543) cannot keep prepared statements.
    prepare: new URL(url).port !== '6543',
    connect_timeout: 10,
    // No idle_timeout (postgres.js default 0): a pool keeps what a burst opened. Reopening
    // costs the first query after a quiet spell a connection set-up, 103 / 172 ms p50 / p95
    // on loopback with SCRAM on the loaded 2-core machine against 0.17 / 4.2 ms on an open
    // connection (bench/postgres-connect.ts); an idle connection costs the server only its
    // slot, and DATABASE_POOL_SIZE bounds those (README, "Running against Supabase").
    idle_timeout: 0,
    connection: { application_name: applicationName },
  });
}

/**
 * The advisory lock key every Parley process takes to migrate: any number that is Parley's
 * alone. In `pg_locks` it shows as `classid` (high 32 bits) and `objid` (low 32 bits).
 */
export const MIGRATION_LOCK_ID = 7_263_540_129;

/**
 * Migrates inside one transaction that first takes a transaction-level advisory lock:
 * concurrent starters queue on the lock, and whoever comes second finds drizzle's table
 * already current. A transaction-level lock (not a session one) is what a transaction pooler
 * (Supabase port 6543) can hold: the whole run is one transaction on one server connection,
 * and the lock goes with the commit, or with the connection if the process dies.
 */
async function migratePostgresLocked(db: Database): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    const asked = performance.now();
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`);
    const lockWaitMs = performance.now() - asked;
    const before = await appliedMigrations(tx);
    await migrateInside(tx);
    return { applied: (await appliedMigrations(tx)) - before, lockWaitMs };
  });
}

/**
 * drizzle's migrator (what `migrate()` of drizzle-orm/postgres-js runs), given this
 * transaction's session: the transaction drizzle opens for the migrations becomes a savepoint
 * inside ours, so everything it does happens under our lock.
 */
async function migrateInside(tx: OpenTransaction): Promise<void> {
  const session: PgSession = Object.create(tx._.session, {
    transaction: {
      value: (run: (inner: OpenTransaction) => Promise<unknown>) => tx.transaction(run),
    },
  });
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  await new PgDialect().migrate(readMigrationFiles(config), session, config);
}

/** What `db.transaction` hands its callback. */
type OpenTransaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Rows in drizzle's migrations table; 0 before the first migration created it. */
async function appliedMigrations(db: Executor): Promise<number> {
  const table = 'drizzle.__drizzle_migrations';
  const exists = await rowsOf<{ found: boolean }>(
    db.execute(sql`select to_regclass(${table}) is not null as found`),
  );
  if (exists[0]?.found !== true) return 0;
  const counted = await rowsOf<{ count: number }>(
    db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`),
  );
  return counted[0]?.count ?? 0;
}

/** postgres.js answers `execute` with the rows; PGlite with `{ rows }`. */
async function rowsOf<T>(result: Promise<unknown>): Promise<T[]> {
  const answer = (await result) as T[] | { rows: T[] };
  return Array.isArray(answer) ? answer : answer.rows;
}

async function migrating(run: () => Promise<MigrationReport>): Promise<MigrationReport> {
  try {
    return await run();
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

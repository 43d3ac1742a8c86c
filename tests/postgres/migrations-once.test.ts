import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATION_LOCK_ID, MIGRATIONS_FOLDER, type MigrationReport } from '../../db/client.js';

/**
 * Several processes start at the same instant against an empty PostgreSQL database, as API
 * processes and agent workers of one deployment do after a release: each migration must be
 * applied exactly once, by one of them, while the others wait on the advisory lock and then
 * find nothing left to do; none may fail.
 */
const PROCESSES = 5;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};
const MIGRATIONS = journal.entries.length;

let admin: postgres.Sql;
let serverUrl: string;
const databases: string[] = [];

beforeAll(() => {
  const url = inject('postgresUrl');
  if (url === undefined) throw new Error('the postgres project provides postgresUrl');
  serverUrl = url;
  admin = postgres(url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  for (const name of databases) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin?.end();
});

/** An empty database of its own (no template: nothing migrated yet). */
async function emptyDatabase(): Promise<string> {
  const name = `migrate_race_${databases.length}_${process.pid}`;
  databases.push(name);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Starter {
  child: ChildProcess;
  /** The process's last line: its report, or why it failed. */
  result: Promise<{ code: number | null; report?: MigrationReport; line: string }>;
}

/** Starts one process and resolves once it has opened the database and waits for `go`. */
async function startProcess(url: string, name: string): Promise<Starter> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tests/postgres/migrate-process.ts', url, name],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const seen: string[] = [];
  lines.on('line', (line) => seen.push(line));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'ready' && resolve());
    void exited.then(([code]) => reject(new Error(`exited ${code} before ready: ${seen}`)));
  });
  const result = exited.then(([code]) => {
    const line = seen.at(-1) ?? '';
    return line.startsWith('{')
      ? { code, line, report: JSON.parse(line) as MigrationReport }
      : { code, line };
  });
  return { child, result };
}

async function startProcesses(url: string): Promise<Starter[]> {
  return Promise.all(
    Array.from({ length: PROCESSES }, (_, i) => startProcess(url, `parley-migrate-${i}`)),
  );
}

function go(starters: Starter[]): void {
  for (const { child } of starters) child.stdin?.write('go\n');
}

/** Rows of drizzle's migrations table in `url`'s database. */
async function recordedMigrations(url: string): Promise<{ hash: string }[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql<{ hash: string }[]>`select hash from drizzle.__drizzle_migrations`;
  } finally {
    await sql.end();
  }
}

/** Backends of `database` waiting for Parley's migration lock (see MIGRATION_LOCK_ID). */
async function waitingForLock(database: string): Promise<string[]> {
  const rows = await admin<{ application_name: string }[]>`
    select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and not l.granted and a.datname = ${database}
      and l.classid = ${Math.floor(MIGRATION_LOCK_ID / 2 ** 32)}
      and l.objid = ${MIGRATION_LOCK_ID % 2 ** 32} and l.objsubid = 1`;
  return rows.map((row) => row.application_name).sort();
}

function expectOneMigrator(results: Awaited<Starter['result']>[]): void {
  for (const result of results) expect(result).toMatchObject({ code: 0 });
  const applied = results.map((result) => result.report?.applied).sort();
  expect(applied).toEqual([...Array(PROCESSES - 1).fill(0), MIGRATIONS]);
}

describe(`${PROCESSES} processes starting at once on an empty PostgreSQL database`, () => {
  it('queue on the migration lock: all wait while it is held, then exactly one migrates', async () => {
    const url = await emptyDatabase();
    const database = databases.at(-1) ?? '';
    const starters = await startProcesses(url);
    // The test holds the lock first, as a slow migrating process would (advisory locks are
    // per database: it must hold it in theirs).
    const holder = postgres(url, { max: 1, onnotice: () => {} });
    await holder`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    go(starters);
    const names = starters.map((_, i) => `parley-migrate-${i}`).sort();
    const deadline = Date.now() + 60_000;
    while ((await waitingForLock(database)).length < PROCESSES && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await waitingForLock(database)).toEqual(names);
    await holder.end();
    const results = await Promise.all(starters.map((s) => s.result));
    expectOneMigrator(results);
    expect(results.every((result) => (result.report?.lockWaitMs ?? 0) > 0)).toBe(true);
    const recorded = await recordedMigrations(url);
    expect(recorded).toHaveLength(MIGRATIONS);
    expect(new Set(recorded.map((row) => row.hash)).size).toBe(MIGRATIONS);
  }, 180_000);

  it('released together, none fails and each migration is recorded once', async () => {
    const url = await emptyDatabase();
    const starters = await startProcesses(url);
    go(starters);
    expectOneMigrator(await Promise.all(starters.map((s) => s.result)));
    const recorded = await recordedMigrations(url);
    expect(recorded).toHaveLength(MIGRATIONS);
    expect(new Set(recorded.map((row) => row.hash)).size).toBe(MIGRATIONS);
  }, 180_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, openTestDatabase, serveOverWire } from '../tests/helpers/database.js';
import { describeUrl, openDatabase } from './client.js';

describe('openDatabase', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('fails with a clear message, without the password, when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const url = `postgres://parley:hunter2@127.0.0.1:${port}/parley`;
    const error = await openDatabase({ url, dataDir: 'unused' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DATABASE.UNAVAILABLE' });
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${port}/parley`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('hunter2');
  });

  it('describes a URL without its credentials', () => {
    expect(describeUrl('postgresql://u:p@db.example.com/app')).toBe(
      'PostgreSQL at db.example.com:5432/app',
    );
  });

  it('migrates a fresh PostgreSQL over the wire, idempotently, pgvector included', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-fresh-'));
    dirs.push(dataDir);
    // Two connections: the pool's, and the migration's own (which holds the advisory lock).
    const server = await serveOverWire(dataDir, 2);
    try {
      const handle = await openDatabase({ url: server.url, dataDir, poolSize: 1 });
      await handle.migrate();
      await handle.migrate();
      // postgres.js answers `execute` with an array of rows.
      const rows = (await handle.db.execute(
        sql`select extname from pg_extension where extname = 'vector'`,
      )) as unknown as { extname: string }[];
      expect([...rows].map((r) => r.extname)).toEqual(['vector']);
      await handle.db.execute(sql`select count(*) from knowledge_chunks`);
      await handle.close();
    } finally {
      await server.stop();
    }
  });
});

describe.runIf(inject('databaseDriver') === 'postgres')('the ingestion connections', () => {
  it("are not the pool's: a query answers while ingestion holds every pooled connection busy", async () => {
    const database = await openTestDatabase(undefined, { poolSize: 1 });
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => {};
      const inside = new Promise<void>((resolve) => {
        started = resolve;
      });
      const holding = database.ingestion.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        started();
        await held;
      });
      await inside;
      // Sharing the pool's one connection, this would wait until the transaction ended.
      const answer = database.db.execute(sql`select 1`).then(() => 'answered');
      const waited = new Promise((resolve) => setTimeout(resolve, 3_000, 'waited'));
      expect(await Promise.race([answer, waited])).toBe('answered');
      release();
      await holding;
    } finally {
      await database.close();
    }
  });

  it("name themselves apart from the pool's, so pg_stat_activity counts them", async () => {
    const database = await openTestDatabase(undefined, { poolSize: 1 });
    try {
      const nameOn = async (db: typeof database.db) => {
        const rows = (await db.execute(
          sql`select current_setting('application_name') as name`,
        )) as unknown as { name: string }[];
        return rows[0]?.name;
      };
      expect(await nameOn(database.db)).toBe('parley');
      expect(await nameOn(database.ingestion)).toBe('parley-ingestion');
    } finally {
      await database.close();
    }
  });
});

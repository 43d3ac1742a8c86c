import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestDatabase, rowsOf, type TestDatabase } from '../../tests/helpers/database.js';

/** Resolves after `count` ticks of a 5 ms interval: only if the event loop keeps turning. */
function ticks(count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const timer = setInterval(() => {
      seen += 1;
      if (seen < count) return;
      clearInterval(timer);
      resolve();
    }, 5);
  });
}

// The embedded database on its own thread: nothing to add in the `postgres` project.
describe.skipIf(inject('databaseDriver') !== 'pglite')('PGlite on its own thread', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('leaves the event loop free while a long query runs', async () => {
    let finished = false;
    // Seconds of work for PostgreSQL; on the main thread no timer could fire until it ends.
    const long = database.db
      .execute(sql`select count(*) as n from generate_series(1, 3000000) a
                   join generate_series(1, 3000000) b on a = b`)
      .then((result) => {
        finished = true;
        return result;
      });
    await ticks(5);
    expect(finished).toBe(false);
    expect(rowsOf<{ n: number }>(await long)[0]?.n).toBe(3_000_000);
  });

  it("passes a statement's error on with its SQLSTATE", async () => {
    const error = await database.db.execute(sql`select 1 / 0`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toMatchObject({ code: '22012' });
  });

  it('commits a transaction that succeeds and rolls back one that throws', async () => {
    await database.db.execute(sql`create table thread_probe (n int)`);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into thread_probe values (1)`);
    });
    const failed = database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into thread_probe values (2)`);
      throw new Error('changed my mind');
    });
    await expect(failed).rejects.toThrow('changed my mind');
    const rows = rowsOf<{ n: number }>(await database.db.execute(sql`select n from thread_probe`));
    expect(rows.map((row) => row.n)).toEqual([1]);
  });
});

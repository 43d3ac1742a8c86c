import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOverWire, type WireServer } from './database.js';

// The LiveKit stack and the worker tests serve one PGlite to several processes over the wire:
// each connection must see a session of its own, as on PostgreSQL.
describe('one PGlite served to several connections', () => {
  let dataDir: string;
  let wire: WireServer;
  const clients: postgres.Sql[] = [];
  // Unnamed statements, as against Supabase's transaction pooler and in drizzle's raw queries.
  const connect = () => {
    const sql = postgres(wire.url, { max: 1, prepare: false, onnotice: () => {} });
    clients.push(sql);
    return sql;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-gate-'));
    wire = await serveOverWire(dataDir, 8);
    await connect()`create table notes (id serial primary key, who text not null, n int not null)`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((sql) => sql.end()));
    await wire?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps each parameterised statement whole when connections send them at once', async () => {
    // Different parameter counts: an unnamed statement of one connection bound with another's
    // parameters fails ("bind message supplies 2 parameters, but prepared statement requires 3").
    const [a, b, c] = [connect(), connect(), connect()];
    const rounds = Array.from({ length: 40 }, (_, i) => [
      a`select ${i}::int + ${1}::int as v`.then(([row]) => row?.v === i + 1),
      b`select ${i}::int + ${2}::int + ${3}::int as v`.then(([row]) => row?.v === i + 5),
      c`insert into notes (who, n) values (${'c'}, ${i}) returning n`.then(([row]) => row?.n === i),
    ]);
    expect((await Promise.all(rounds.flat())).every(Boolean)).toBe(true);
  });

  it("never runs one connection's statement inside another's transaction", async () => {
    const [a, b] = [connect(), connect()];
    let inside!: () => void;
    const begun = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const rolledBack = a
      .begin(async (tx) => {
        await tx`insert into notes (who, n) values ('a', 1)`;
        inside();
        await new Promise((resolve) => setTimeout(resolve, 300));
        throw new Error('roll back');
      })
      .catch((error: Error) => error.message);
    await begun;
    // b's insert waits for a's transaction to end, and survives its rollback (pglite-socket
    // keeps a transaction's statements together itself; the gate must not break that).
    const written = b`insert into notes (who, n) values ('b', 2) returning id`;
    expect(await rolledBack).toBe('roll back');
    await written;
    const rows = await b`select who from notes where who in ('a', 'b')`;
    expect(rows.map((row) => row.who)).toEqual(['b']);
  });
});

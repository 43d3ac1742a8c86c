import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { asc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey, GREETING_KEY, replyKey } from '../agent/conversation/message-keys.js';
import type { Database } from './client.js';
import { appendMessage } from './queries/messages.js';
import * as schema from './schema.js';

/** Rows stored before client ids had a namespace keep working after migration 0002. */
const MIGRATIONS = join(import.meta.dirname, 'migrations');
let client: PGlite;
let db: Database;
let before: string;

beforeAll(async () => {
  // The migrations folder as it was before 0002: the same files, the journal cut after 0001.
  before = await mkdtemp(join(tmpdir(), 'parley-migrations-'));
  await cp(MIGRATIONS, before, { recursive: true });
  const journalPath = join(before, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, 2);
  await writeFile(journalPath, JSON.stringify(journal));
  client = await PGlite.create('memory://', { extensions: { vector } });
  const pglite = drizzle({ client, schema, casing: 'snake_case' });
  db = pglite as unknown as Database;
  await migrate(pglite, { migrationsFolder: before });
});
afterAll(async () => {
  await client?.close();
  await rm(before, { recursive: true, force: true });
});

describe('migration 0002 (client id namespaces)', () => {
  it('moves typed user ids into the client namespace and replies under reply:, leaving the rest', async () => {
    const room = await roomAsBefore0002();
    const old = [
      { sender: 'character', modality: 'text', clientId: 'greeting' },
      { sender: 'user', modality: 'text', clientId: 'abc' },
      { sender: 'character', modality: 'text', clientId: 'abc:reply' },
      { sender: 'user', modality: 'voice', clientId: 'item_u1' },
      { sender: 'character', modality: 'voice', clientId: 'item_c1' },
      { sender: 'user', modality: 'text', clientId: 'c:abc' },
    ] as const;
    for (const row of old) {
      await appendMessage(db, { chatRoomId: room.id, text: row.clientId, ...row });
    }

    await migrate(drizzle({ client, schema, casing: 'snake_case' }), {
      migrationsFolder: MIGRATIONS,
    });
    const rows = await db
      .select({ text: schema.messages.text, clientId: schema.messages.clientId })
      .from(schema.messages)
      .where(eq(schema.messages.chatRoomId, room.id))
      .orderBy(asc(schema.messages.seq));
    expect(rows.map((r) => r.clientId)).toEqual([
      GREETING_KEY,
      clientKey('abc'),
      replyKey(clientKey('abc')),
      'item_u1',
      'item_c1',
      clientKey('c:abc'),
    ]);
    // A retry of an old turn finds what it stored, under the new keys.
    const retried = await appendMessage(db, {
      chatRoomId: room.id,
      sender: 'user',
      text: 'abc',
      modality: 'text',
      clientId: clientKey('abc'),
    });
    expect(retried).toMatchObject({ created: false, message: { text: 'abc' } });
  });
});

/**
 * A user, a character and their room written in SQL against the schema as it was then: the
 * drizzle schema has columns that later migrations add (a character's description, say).
 */
async function roomAsBefore0002(): Promise<{ id: number }> {
  const userId = randomUUID();
  const characterId = randomUUID();
  await db.execute(
    sql`insert into user_profiles (id, display_name, account_name) values (${userId}, 'Ada', ${`ada-${userId}`})`,
  );
  await db.execute(
    sql`insert into characters (id, owner_id, name, instructions) values (${characterId}, ${userId}, 'Sage', 'Be kind.')`,
  );
  const result = await db.execute(
    sql`insert into chat_rooms (user_id, character_id) values (${userId}, ${characterId}) returning id`,
  );
  const rows = (result as unknown as { rows: { id: number }[] }).rows;
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('no chat room was created');
  return { id };
}

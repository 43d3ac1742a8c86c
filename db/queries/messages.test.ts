import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeConversation } from '../../tests/helpers/fixtures.js';
import { appendMessage, listMessages, recentMessages } from './messages.js';

describe('messages', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    // Several connections on PostgreSQL: the concurrent appends below really race there.
    database = await openTestDatabase(undefined, { poolSize: 5 });
  });
  afterAll(() => database.close());

  it('50 concurrent appends to one room lose nothing and keep their order', async () => {
    const { room } = await makeConversation(database.db);
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
    const results = await Promise.all(
      texts.map((text) =>
        appendMessage(database.db, { chatRoomId: room.id, sender: 'user', text, modality: 'text' }),
      ),
    );
    const stored = (await listMessages(database.db, { chatRoomId: room.id, limit: 100 })).messages;
    expect(stored).toHaveLength(50);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.text))).toEqual(new Set(texts));
    // Only `seq` orders a room: on a real server an append draws its id before it waits for
    // the room's row lock, so concurrent appends commit in an order their ids need not follow.
    expect(new Set(stored.map((m) => m.id)).size).toBe(50);
    expect(results.every((r) => r.created)).toBe(true);
  });

  it('stores one message for the same client id twice, even concurrently', async () => {
    const { room } = await makeConversation(database.db);
    const send = (text: string) =>
      appendMessage(database.db, {
        chatRoomId: room.id,
        sender: 'user',
        text,
        modality: 'text',
        clientId: 'client-1',
      });
    const [first, second] = await Promise.all([send('hello'), send('hello again')]);
    const third = await send('hello a third time');
    expect(first?.message.id).toBe(second?.message.id);
    expect(third.message.id).toBe(first?.message.id);
    expect([first?.created, second?.created, third.created].filter(Boolean)).toHaveLength(1);
    const stored = (await listMessages(database.db, { chatRoomId: room.id, limit: 10 })).messages;
    expect(stored).toHaveLength(1);
    // The duplicate took no sequence number: the next message is 2.
    const next = await appendMessage(database.db, {
      chatRoomId: room.id,
      sender: 'character',
      text: 'hi',
      modality: 'text',
    });
    expect(next.message.seq).toBe(2);
  });

  it('keeps metrics, modality and the interrupted flag', async () => {
    const { room } = await makeConversation(database.db);
    const { message } = await appendMessage(database.db, {
      chatRoomId: room.id,
      sender: 'character',
      text: 'The moon is',
      modality: 'voice',
      interrupted: true,
      metrics: { llmTtftMs: 250, ttsTtfbMs: 100, e2eLatencyMs: 612 },
    });
    expect(message).toMatchObject({
      modality: 'voice',
      interrupted: true,
      metrics: { llmTtftMs: 250, ttsTtfbMs: 100, e2eLatencyMs: 612 },
    });
  });

  it('rejects a message for a room that does not exist', async () => {
    await expect(
      appendMessage(database.db, {
        chatRoomId: 999_999,
        sender: 'user',
        text: 'x',
        modality: 'text',
      }),
    ).rejects.toMatchObject({ code: 'ROOM.NOT_FOUND' });
  });
});

describe('paging through a room', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('pages backwards from the newest and forwards after a cursor', async () => {
    const { room } = await makeConversation(database.db);
    for (let i = 1; i <= 7; i++) {
      await appendMessage(database.db, {
        chatRoomId: room.id,
        sender: 'user',
        text: `m${i}`,
        modality: 'text',
      });
    }
    const newest = await listMessages(database.db, { chatRoomId: room.id, limit: 3 });
    expect(newest.messages.map((m) => m.text)).toEqual(['m5', 'm6', 'm7']);
    expect(newest.nextBeforeSeq).toBe(5);
    const older = await listMessages(database.db, { chatRoomId: room.id, limit: 3, beforeSeq: 5 });
    expect(older.messages.map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
    const oldest = await listMessages(database.db, { chatRoomId: room.id, limit: 3, beforeSeq: 2 });
    expect(oldest.messages.map((m) => m.text)).toEqual(['m1']);
    expect(oldest.nextBeforeSeq).toBeUndefined();
    const after = await listMessages(database.db, { chatRoomId: room.id, limit: 2, afterSeq: 5 });
    expect(after.messages.map((m) => m.text)).toEqual(['m6', 'm7']);
    expect((await recentMessages(database.db, room.id, 2)).map((m) => m.text)).toEqual([
      'm6',
      'm7',
    ]);
  });
});

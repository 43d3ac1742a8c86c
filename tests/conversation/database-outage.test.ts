import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { startTestBrain, type TestBrain } from '../helpers/brain.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';

let database: TestDatabase;
let test: TestBrain;

beforeAll(async () => {
  // The production driver against a server that can go away.
  database = await openTestDatabase('postgres');
  // The reply's first token comes 1.5 s after the request: the outage starts in that window.
  test = await startTestBrain(database.db, { emulator: { ttftMs: 1_500 } });
});
afterAll(async () => {
  await test.close();
  await database.close();
});

/** Polls until the room holds `count` messages (bounded: the turn's own time, not a check). */
async function untilStored(chatRoomId: number, count: number): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const stored = await listMessages(database.db, { chatRoomId, limit: count });
    if (stored.messages.length >= count) return;
    await sleep(10);
  }
  throw new Error(`room ${chatRoomId} never held ${count} messages`);
}

describe('the database going away for a few seconds', () => {
  it('loses no message of a text turn in flight', async () => {
    const { room } = await makeConversation(database.db);
    test.emulator.enqueueReply('Mars has two small moons, Phobos and Deimos.');
    const turn = test.brain.conversation.runTextTurn({
      chatRoom: room,
      text: 'Does Mars have moons?',
    });
    // The user message is stored first; the reply is stored while the database is down.
    await untilStored(room.id, 1);
    const outage = database.outage(3_000);
    const result = await turn;
    await outage;
    expect(result.aiMessage.text).toBe('Mars has two small moons, Phobos and Deimos.');
    const stored = await listMessages(database.db, { chatRoomId: room.id, limit: 10 });
    expect(stored.messages.map((m) => [m.sender, m.text])).toEqual([
      ['user', 'Does Mars have moons?'],
      ['character', 'Mars has two small moons, Phobos and Deimos.'],
    ]);
  });

  it('stores, in order, every voice message buffered during the outage', async () => {
    const { room } = await makeConversation(database.db);
    const outage = database.outage(2_500);
    await sleep(50);
    for (let i = 0; i < 6; i++) {
      test.brain.writer.enqueue({
        chatRoomId: room.id,
        sender: i % 2 === 0 ? 'user' : 'character',
        text: `utterance ${i}`,
        modality: 'voice',
        clientId: `item-${i}`,
      });
    }
    expect(test.brain.writer.pending).toBeGreaterThan(0);
    await outage;
    await test.brain.writer.flush();
    const stored = await listMessages(database.db, { chatRoomId: room.id, limit: 10 });
    expect(stored.messages.map((m) => m.text)).toEqual(
      Array.from({ length: 6 }, (_, i) => `utterance ${i}`),
    );
  });
});

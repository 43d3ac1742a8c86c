import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage, listMessages } from '../../db/queries/messages.js';
import { contentText } from '../../tests/dev-tools/providers/openai-chat.js';
import { startTestBrain, type TestBrain } from '../../tests/helpers/brain.js';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeConversation } from '../../tests/helpers/fixtures.js';
import { loadConversation } from './conversations.js';

let database: TestDatabase;
let test: TestBrain;

beforeAll(async () => {
  database = await openTestDatabase();
  // Two messages of history: a repeated client id can be older than what memory holds.
  test = await startTestBrain(database.db, { env: { HISTORY_MESSAGES: '2' } });
});
afterAll(async () => {
  await test.close();
  await database.close();
});

const lastPrompt = () =>
  (test.emulator.requests.chatCompletions.at(-1)?.messages ?? []).map((m) =>
    contentText(m.content),
  );

describe('a text turn whose LLM request leaves before its message is stored', () => {
  it('answers with what was written in between, not with the history it started from', async () => {
    const { room } = await makeConversation(database.db);
    await test.brain.conversation.greet(room);
    // A voice session's message lands after the text path last saw the room.
    await appendMessage(database.db, {
      chatRoomId: room.id,
      sender: 'user',
      text: 'spoken about Jupiter',
      modality: 'voice',
    });
    const deltas: string[] = [];
    const result = await test.brain.conversation.runTextTurn({
      chatRoom: room,
      text: 'And its moons?',
      onDelta: (text) => deltas.push(text),
    });
    expect(lastPrompt()).toContain('spoken about Jupiter');
    expect(result.aiMessage.text).toBe('You said: And its moons. Tell me more.');
    expect(deltas.join('')).toBe(result.aiMessage.text);
    const stored = (await listMessages(database.db, { chatRoomId: room.id, limit: 10 })).messages;
    expect(stored.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(stored.at(-1)?.text).toBe(result.aiMessage.text);
  });

  it('stores nothing twice for a client id older than the history in memory', async () => {
    const { room } = await makeConversation(database.db);
    await test.brain.conversation.greet(room);
    const first = await test.brain.conversation.runTextTurn({
      chatRoom: room,
      text: 'first',
      clientId: 'old-1',
    });
    await test.brain.conversation.runTextTurn({ chatRoom: room, text: 'second', clientId: 'c-2' });
    const deltas: string[] = [];
    const again = await test.brain.conversation.runTextTurn({
      chatRoom: room,
      text: 'first',
      clientId: 'old-1',
      onDelta: (text) => deltas.push(text),
    });
    expect(again.userMessage.id).toBe(first.userMessage.id);
    expect(again.aiMessage.id).toBe(first.aiMessage.id);
    expect(deltas).toEqual([]);
    const stored = (await listMessages(database.db, { chatRoomId: room.id, limit: 10 })).messages;
    expect(stored).toHaveLength(5);
  });
});

describe('one conversation per room, fed by voice and by text', () => {
  /** The room's conversation as a voice session loads it (the LiveKit job, a direct call). */
  const forVoice = (chatRoomId: number) =>
    loadConversation(
      {
        db: database.db,
        retriever: test.brain.retriever,
        writer: test.brain.writer,
        historyMessages: 2,
      },
      chatRoomId,
    );

  it('greets once per room, whichever way the user arrives first', async () => {
    const { room, character } = await makeConversation(database.db);
    expect((await forVoice(room.id)).greeting()).toBe(character.greeting);
    const greeted = await (await test.brain.conversation.open(room)).greet();
    expect(greeted?.text).toBe(character.greeting);
    // Started by the typed side: a voice session joining now has nothing to greet with.
    expect((await forVoice(room.id)).greeting()).toBeUndefined();
    expect(await (await test.brain.conversation.open(room)).greet()).toBeUndefined();
  });

  it('a voice session’s conversation answers no typed turn, and stores nothing for one', async () => {
    const { room } = await makeConversation(database.db);
    const voice = await forVoice(room.id);
    await expect(voice.runTextTurn({ text: 'typed into a call' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    const stored = (await listMessages(database.db, { chatRoomId: room.id, limit: 10 })).messages;
    expect(stored).toEqual([]);
  });
});

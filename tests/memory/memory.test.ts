import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMemories } from '../../db/queries/memories.js';
import { chatRooms } from '../../db/schema.js';
import { contentText } from '../dev-tools/providers/openai-chat.js';
import type { ChatCompletionRequest } from '../dev-tools/providers/openai-emulator.js';
import { isMemoryRequest } from '../dev-tools/providers/openai-memories.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from '../http/test-app.js';
import { type ChatClient, connectChat, ofType } from '../http/ws-client.js';

let t: TestApp;
let base: string;
let characterId: string;

// Two messages of history: what the first session said is out of the prompt's history by the
// second, so only memory can bring it back. A chat quiet for 300 ms is distilled.
beforeAll(async () => {
  t = await startTestApp({ brainEnv: { HISTORY_MESSAGES: '2', MEMORY_IDLE_MS: '300' } });
  base = await t.listen();
  characterId = (await makeCharacter(t.db, await makeUser(t.db), { isPublic: true })).id;
});
afterAll(() => t.close());

interface MemoryView {
  id: number;
  text: string;
  source_message_ids: number[];
}

async function session(token: string): Promise<{ client: ChatClient; roomId: number }> {
  const client = connectChat(`${base}/ws/chat?character_id=${characterId}`, { token });
  const ready = await client.next(ofType('ready'));
  return { client, roomId: Number(ready.chat_room_id) };
}

async function say(client: ChatClient, clientId: string, text: string) {
  client.send({ type: 'message', client_id: clientId, text });
  const user = client.next(ofType('message', { role: 'user', client_id: clientId }));
  await client.next(ofType('message', { role: 'character', client_id: clientId }));
  return user;
}

async function api(token: string, method: 'GET' | 'PATCH' | 'DELETE', url: string, body?: object) {
  const response = await t.app.inject({
    method,
    url,
    headers: bearer(token),
    ...(body === undefined ? {} : { payload: body }),
  });
  return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
}

/** Polls the room's memories until `done` holds (distillation runs after the socket closes). */
async function memoriesWhen(
  token: string,
  roomId: number,
  done: (memories: MemoryView[]) => boolean,
): Promise<MemoryView[]> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const { body } = await api(token, 'GET', `/api/chat-rooms/${roomId}/memories`);
    if (done(body as MemoryView[])) return body as MemoryView[];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('memories never reached the expected state');
}

/** The prompt of the character's latest reply (not a distillation request). */
function lastReplyPrompt(): ChatCompletionRequest['messages'] {
  const replies = t.brain.emulator.requests.chatCompletions.filter((r) => !isMemoryRequest(r));
  return replies.at(-1)?.messages ?? [];
}

const memoryBlocks = (messages: ChatCompletionRequest['messages']) =>
  messages.map((m) => contentText(m.content)).filter((text) => text.startsWith('<memories>'));

describe('memory across conversations', () => {
  it('recalls in a new session what the user said in an earlier one, and forgets it once deleted', async () => {
    const token = await t.token({ sub: crypto.randomUUID() });
    const first = await session(token);
    const fact = await say(first.client, 'a1', 'My sister is called Zelda.');
    await say(first.client, 'a2', 'I like green tea.');
    await say(first.client, 'a3', 'Nice weather today.');
    first.client.socket.close();

    const memories = await memoriesWhen(token, first.roomId, (m) => m.length === 3);
    const zelda = memories.find((m) => m.text.includes('Zelda'));
    expect(zelda).toMatchObject({ source_message_ids: [fact.id] });

    const second = await session(token);
    expect(second.roomId).toBe(first.roomId);
    await say(second.client, 'b1', 'Do you remember my family?');
    const recalled = lastReplyPrompt();
    const [block] = memoryBlocks(recalled);
    expect(block).toContain('My sister is called Zelda.');
    expect(block?.endsWith('</memories>')).toBe(true);
    // Only the memory carries it: the earlier session is out of the history.
    const elsewhere = recalled.filter((m) => !contentText(m.content).startsWith('<memories>'));
    expect(JSON.stringify(elsewhere)).not.toContain('Zelda');

    const removed = await api(
      token,
      'DELETE',
      `/api/chat-rooms/${first.roomId}/memories/${zelda?.id}`,
    );
    expect(removed.status).toBe(204);
    await say(second.client, 'b2', 'Who is in my family?');
    const after = lastReplyPrompt();
    expect(memoryBlocks(after)).toHaveLength(1);
    expect(JSON.stringify(after)).not.toContain('Zelda');
    second.client.socket.close();
  });

  it('distils each message once, and never shows one user another user’s memories', async () => {
    const ada = await t.token({ sub: crypto.randomUUID() });
    const bob = await t.token({ sub: crypto.randomUUID() });
    const adas = await session(ada);
    await say(adas.client, 'c1', 'My dog is called Rex.');
    adas.client.socket.close();
    await memoriesWhen(ada, adas.roomId, (m) => m.length === 1);
    // A second end of the same conversation sends nothing again to the LLM, stores nothing.
    await t.brain.brain.memory.keeper.ended(adas.roomId);
    const askedAbout = (word: string) =>
      t.brain.emulator.requests.chatCompletions.filter(
        (r) => isMemoryRequest(r) && JSON.stringify(r.messages).includes(word),
      ).length;
    expect(askedAbout('Rex')).toBe(1);
    expect(await listMemories(t.db, adas.roomId)).toHaveLength(1);

    const bobs = await session(bob);
    await say(bobs.client, 'd1', 'What is my dog called?');
    expect(JSON.stringify(lastReplyPrompt())).not.toContain('Rex');
    expect((await api(bob, 'GET', `/api/chat-rooms/${adas.roomId}/memories`)).status).toBe(403);
    bobs.client.socket.close();
  });

  it('remembers nothing and recalls nothing while memory is off for the room', async () => {
    const token = await t.token({ sub: crypto.randomUUID() });
    const first = await session(token);
    await say(first.client, 'e1', 'I live in Lisbon.');
    first.client.socket.close();
    await memoriesWhen(token, first.roomId, (m) => m.length === 1);

    const off = await api(token, 'PATCH', `/api/chat-rooms/${first.roomId}`, {
      memory_enabled: false,
    });
    expect(off).toMatchObject({ status: 200, body: { memory_enabled: false } });
    const second = await session(token);
    await say(second.client, 'f1', 'I work as a nurse.');
    expect(memoryBlocks(lastReplyPrompt())).toHaveLength(0);
    second.client.socket.close();
    await second.client.closed;
    await t.brain.brain.memory.keeper.ended(first.roomId);
    const kept = await listMemories(t.db, first.roomId);
    expect(kept.map((m) => m.text)).toEqual(['The user said: I live in Lisbon.']);
  });

  it('lets the user correct a memory, and refuses bad input with clear codes', async () => {
    const token = await t.token({ sub: crypto.randomUUID() });
    const first = await session(token);
    await say(first.client, 'g1', 'I was born in 1990.');
    first.client.socket.close();
    const [memory] = await memoriesWhen(token, first.roomId, (m) => m.length === 1);
    const url = `/api/chat-rooms/${first.roomId}/memories/${memory?.id}`;

    const corrected = await api(token, 'PATCH', url, { text: 'The user was born in 1991.' });
    expect(corrected).toMatchObject({ status: 200, body: { text: 'The user was born in 1991.' } });
    const second = await session(token);
    await say(second.client, 'h1', 'How old am I?');
    expect(memoryBlocks(lastReplyPrompt())[0]).toContain('born in 1991');
    second.client.socket.close();

    expect(await api(token, 'PATCH', url, { text: '  ' })).toMatchObject({
      status: 400,
      body: { error: { code: 'REQUEST.INVALID' } },
    });
    expect(await api(token, 'PATCH', url, { text: 'x', extra: 1 })).toMatchObject({ status: 400 });
    const unknown = `/api/chat-rooms/${first.roomId}/memories/999999999`;
    expect(await api(token, 'DELETE', unknown)).toMatchObject({
      status: 404,
      body: { error: { code: 'MEMORY.NOT_FOUND' } },
    });
    expect(await api(token, 'GET', '/api/chat-rooms/0/memories')).toMatchObject({ status: 400 });

    // Deleting the room deletes its memories.
    await t.db.delete(chatRooms).where(eq(chatRooms.id, first.roomId));
    expect(await listMemories(t.db, first.roomId)).toHaveLength(0);
  });

  it('distils an HTTP chat once it goes quiet, and documents the memory API', async () => {
    const token = await t.token({ sub: crypto.randomUUID() });
    const turn = await t.app.inject({
      method: 'POST',
      url: '/api/chat',
      headers: bearer(token),
      payload: { character_id: characterId, message: 'My cat is called Tom.' },
    });
    expect(turn.statusCode).toBe(200);
    const roomId = Number(turn.json().chat_room_id);
    const [memory] = await memoriesWhen(token, roomId, (m) => m.length === 1);
    expect(memory).toMatchObject({
      text: 'The user said: My cat is called Tom.',
      source_message_ids: [turn.json().user_message_id],
    });

    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths['/api/chat-rooms/{id}/memories'])).toEqual(['get']);
    const one = spec.paths['/api/chat-rooms/{id}/memories/{memoryId}'];
    expect(Object.keys(one).sort()).toEqual(['delete', 'patch']);
    expect(Object.keys(spec.paths['/api/chat-rooms/{id}'])).toContain('patch');
  });
});

import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memories, messages } from '../../db/schema.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

type Headers = { authorization: string };

async function chat(headers: Headers, characterId: string, message: string): Promise<number> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/chat',
    headers,
    payload: { message, character_id: characterId },
  });
  expect(response.statusCode).toBe(200);
  return response.json().chat_room_id;
}

/** The room `POST /api/token` names: it goes through the token route's room cache. */
async function tokenRoom(headers: Headers, characterId: string): Promise<number> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/token',
    headers,
    payload: { character_id: characterId },
  });
  expect(response.statusCode).toBe(201);
  return response.json().chat_room_id;
}

const remove = (headers: Headers, id: number | string) =>
  t.app.inject({ method: 'DELETE', url: `/api/chat-rooms/${id}`, headers });

describe('DELETE /api/chat-rooms/:id', () => {
  it('deletes the owner’s room with its messages and memories; a new one starts empty', async () => {
    const userId = crypto.randomUUID();
    const owner = bearer(await t.token({ sub: userId }));
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    t.brain.emulator.enqueueReply('Tibbles is a fine name for a cat.');
    const roomId = await chat(owner, mira.id, 'My cat is called Tibbles');
    expect(await tokenRoom(owner, mira.id)).toBe(roomId);
    await t.db.insert(memories).values({
      chatRoomId: roomId,
      userId,
      text: 'Has a cat called Tibbles',
      sourceMessageIds: [],
    });

    expect((await remove(owner, roomId)).statusCode).toBe(204);

    const rows = (table: typeof messages | typeof memories) =>
      t.db.select({ id: table.id }).from(table).where(eq(table.chatRoomId, roomId));
    expect(await rows(messages)).toEqual([]);
    expect(await rows(memories)).toEqual([]);
    expect(
      (await t.app.inject({ url: `/api/chat-rooms/${roomId}`, headers: owner })).statusCode,
    ).toBe(404);
    // Nothing kept in memory serves the deleted room: the token names a new one ...
    const again = await tokenRoom(owner, mira.id);
    expect(again).not.toBe(roomId);
    // ... and the next turn's prompt carries nothing of the old conversation.
    t.brain.emulator.enqueueReply('Hello again.');
    expect(await chat(owner, mira.id, 'Do you know my pets?')).toBe(again);
    const prompt = JSON.stringify(t.brain.emulator.requests.chatCompletions.at(-1)?.messages);
    expect(prompt).toContain('Do you know my pets?');
    expect(prompt).not.toContain('Tibbles');
  });

  it('answers 404 for another user’s room and for unknown ids, and deletes nothing', async () => {
    const owner = bearer(await t.token({ sub: crypto.randomUUID() }));
    const stranger = bearer(await t.token({ sub: crypto.randomUUID() }));
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    t.brain.emulator.enqueueReply('Noted.');
    const roomId = await chat(owner, mira.id, 'Remember this');

    const foreign = await remove(stranger, roomId);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('ROOM.NOT_FOUND');
    expect((await remove(owner, 2_000_000_000)).statusCode).toBe(404);
    const kept = await t.app.inject({ url: `/api/chat-rooms/${roomId}/messages`, headers: owner });
    expect(kept.json().messages).toHaveLength(2);
  });

  it('is described in the OpenAPI document', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.paths['/api/chat-rooms/{id}'].delete.responses).toHaveProperty('204');
  });
});

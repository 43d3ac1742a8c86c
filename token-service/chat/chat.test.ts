import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function chat(headers: { authorization: string }, payload: object) {
  return t.app.inject({ method: 'POST', url: '/api/chat', headers, payload });
}

describe('POST /api/chat', () => {
  it('answers in the original design’s shape and stores both messages', async () => {
    const headers = bearer(await t.token());
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    t.brain.emulator.enqueueReply('Europa hides an ocean under its ice.');
    const response = await chat(headers, {
      message: 'Tell me about Europa',
      character_id: mira.id,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      chat_room_id: expect.any(Number),
      user_message_id: expect.any(Number),
      ai_message_id: expect.any(Number),
      ai_response: 'Europa hides an ocean under its ice.',
    });
    const lastRequest = t.brain.emulator.requests.chatCompletions.at(-1);
    expect(JSON.stringify(lastRequest?.messages)).toContain('Tell me about Europa');

    const stored = await listMessages(t.db, { chatRoomId: body.chat_room_id, limit: 10 });
    expect(stored.messages.map((m) => [m.id, m.sender, m.text, m.modality])).toEqual([
      [body.user_message_id, 'user', 'Tell me about Europa', 'text'],
      [body.ai_message_id, 'character', 'Europa hides an ocean under its ice.', 'text'],
    ]);

    t.brain.emulator.enqueueReply('It is about 3,100 km across.');
    const next = await chat(headers, { message: 'How big?', chat_room_id: body.chat_room_id });
    expect(next.json()).toMatchObject({
      chat_room_id: body.chat_room_id,
      ai_response: 'It is about 3,100 km across.',
    });
    const history = JSON.stringify(t.brain.emulator.requests.chatCompletions.at(-1)?.messages);
    expect(history).toContain('Europa hides an ocean');
  });

  it('stores a retried message once when the client id repeats', async () => {
    const headers = bearer(await t.token());
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const payload = { message: 'Hello?', character_id: mira.id, client_id: 'c-1' };
    const first = (await chat(headers, payload)).json();
    const again = (await chat(headers, payload)).json();
    expect(again).toEqual(first);
    const stored = await listMessages(t.db, { chatRoomId: first.chat_room_id, limit: 10 });
    expect(stored.messages).toHaveLength(2);
  });

  it('needs a message and a room or character', async () => {
    const headers = bearer(await t.token());
    const empty = await chat(headers, { message: '   ', character_id: crypto.randomUUID() });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details[0].field).toBe('message');
    const nowhere = await chat(headers, { message: 'hi' });
    expect(nowhere.statusCode).toBe(400);
    const unknown = await chat(headers, { message: 'hi', character_id: crypto.randomUUID() });
    expect(unknown.statusCode).toBe(404);
  });
});

import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { connectChat, ofType } from './ws-client.js';

/**
 * Values the database cannot hold (a NUL in text, an id past PostgreSQL's integer) are the
 * client's mistake: 400 naming the field, decided before any handler or query runs, never 500.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

interface Problem {
  in: string;
  field: string;
}

async function refused(request: InjectOptions): Promise<Problem[]> {
  const response = await t.app.inject(request);
  expect(response.statusCode, response.body).toBe(400);
  const { error } = response.json();
  expect(error.code).toBe('REQUEST.INVALID');
  return error.details;
}

describe('a NUL character', () => {
  it('in a character’s name or instructions is refused, naming the field', async () => {
    const headers = bearer(await t.token());
    const name = await refused({
      method: 'POST',
      url: '/api/characters',
      headers,
      payload: { name: 'Mi\u0000ra', instructions: 'Be kind.' },
    });
    expect(name).toContainEqual(expect.objectContaining({ in: 'body', field: 'name' }));
    const instructions = await refused({
      method: 'POST',
      url: '/api/characters',
      headers,
      payload: { name: 'Mira', instructions: 'Be\u0000 kind.' },
    });
    expect(instructions).toContainEqual(
      expect.objectContaining({ in: 'body', field: 'instructions' }),
    );
  });

  it('in a chat message or its client_id is refused, naming the field', async () => {
    const headers = bearer(await t.token());
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const message = await refused({
      method: 'POST',
      url: '/api/chat',
      headers,
      payload: { character_id: mira.id, message: 'hi\u0000' },
    });
    expect(message).toContainEqual(expect.objectContaining({ in: 'body', field: 'message' }));
    const clientId = await refused({
      method: 'POST',
      url: '/api/chat',
      headers,
      payload: { character_id: mira.id, message: 'hi', client_id: 'a\u0000b' },
    });
    expect(clientId).toContainEqual(expect.objectContaining({ in: 'body', field: 'client_id' }));
  });

  it('in WebSocket text is an error frame naming the field, and the socket stays usable', async () => {
    const token = await t.token();
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const base = await t.listen();
    const chat = connectChat(`${base}/ws/chat?character_id=${mira.id}`, { token });
    await chat.next(ofType('ready'));
    chat.send({ type: 'message', client_id: 'c1', text: 'hello\u0000there' });
    const error = await chat.next(ofType('error'));
    expect(error).toMatchObject({ code: 'REQUEST.INVALID' });
    expect(error.details).toContainEqual(expect.objectContaining({ field: 'text' }));
    chat.send({ type: 'message', client_id: 'c2', text: 'hello' });
    await chat.next((frame) => frame.type === 'message' && frame.role === 'character');
    chat.socket.close();
  });
});

describe('an id past PostgreSQL’s integer', () => {
  it('as chat_room_id in a chat body is refused', async () => {
    const details = await refused({
      method: 'POST',
      url: '/api/chat',
      headers: bearer(await t.token()),
      payload: { chat_room_id: 99_999_999_999, message: 'hi' },
    });
    expect(details).toContainEqual(expect.objectContaining({ in: 'body', field: 'chat_room_id' }));
  });

  it('as the before of a message page is refused', async () => {
    const token = await t.token();
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const room = await t.app.inject({
      method: 'POST',
      url: '/api/chat-rooms',
      headers: bearer(token),
      payload: { character_id: mira.id },
    });
    const details = await refused({
      url: `/api/chat-rooms/${room.json().id}/messages?before=99999999999`,
      headers: bearer(token),
    });
    expect(details).toContainEqual(expect.objectContaining({ in: 'querystring', field: 'before' }));
  });
});

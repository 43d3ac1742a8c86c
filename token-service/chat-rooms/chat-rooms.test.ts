import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage } from '../../db/queries/messages.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('chat rooms', () => {
  it('gets or creates the one room with a character and lists it', async () => {
    const headers = bearer(await t.token());
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const open = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/chat-rooms',
        headers,
        payload: { character_id: mira.id },
      });
    const [first, second] = await Promise.all([open(), open()]);
    expect(first.statusCode).toBe(200);
    expect(second.json().id).toBe(first.json().id);
    expect(first.json()).toMatchObject({ character_id: mira.id, last_seq: 0 });
    const listed = (await t.app.inject({ url: '/api/chat-rooms', headers })).json();
    expect(listed.map((r: { id: number }) => r.id)).toEqual([first.json().id]);
    const one = await t.app.inject({ url: `/api/chat-rooms/${first.json().id}`, headers });
    expect(one.json().id).toBe(first.json().id);
  });

  it('pages through history backwards with the before cursor', async () => {
    const headers = bearer(await t.token());
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const room = (
      await t.app.inject({
        method: 'POST',
        url: '/api/chat-rooms',
        headers,
        payload: { character_id: mira.id },
      })
    ).json();
    for (let i = 1; i <= 5; i += 1) {
      await appendMessage(t.db, {
        chatRoomId: room.id,
        sender: i % 2 === 1 ? 'user' : 'character',
        text: `m${i}`,
        modality: i === 2 ? 'voice' : 'text',
        interrupted: i === 2,
      });
    }
    const page = (url: string) => t.app.inject({ url, headers }).then((r) => r.json());
    const newest = await page(`/api/chat-rooms/${room.id}/messages?limit=2`);
    expect(newest.messages.map((m: { text: string }) => m.text)).toEqual(['m4', 'm5']);
    expect(newest.next_before).toBe(4);
    const middle = await page(`/api/chat-rooms/${room.id}/messages?limit=2&before=4`);
    expect(middle.messages.map((m: { text: string }) => m.text)).toEqual(['m2', 'm3']);
    expect(middle.messages[0]).toMatchObject({
      seq: 2,
      role: 'character',
      modality: 'voice',
      interrupted: true,
    });
    const oldest = await page(`/api/chat-rooms/${room.id}/messages?limit=2&before=2`);
    expect(oldest).toMatchObject({ messages: [{ text: 'm1', role: 'user' }], next_before: null });
  });

  it('answers 404 for a room that does not exist', async () => {
    const response = await t.app.inject({
      url: '/api/chat-rooms/999999/messages',
      headers: bearer(await t.token()),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('ROOM.NOT_FOUND');
  });
});

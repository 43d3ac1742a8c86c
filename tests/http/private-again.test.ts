import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { connectChat, ofType } from './ws-client.js';

/**
 * User A's public character, user B's room with it; then A makes it private. B's history
 * stays readable, but no way in continues the conversation, and B's open WebSocket is closed
 * with the reason.
 */
let t: TestApp;
let alice: { authorization: string };
let bob: { authorization: string };
let bobToken: string;
let characterId: string;
let roomId: number;
let base: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.listen();
  alice = bearer(await t.token());
  bobToken = await t.token();
  bob = bearer(bobToken);
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/characters',
    headers: alice,
    payload: { name: 'Soon private', instructions: 'A persona.', is_public: true },
  });
  characterId = created.json().id;
  const first = await chat({ message: 'hello', character_id: characterId });
  expect(first.statusCode).toBe(200);
  roomId = first.json().chat_room_id;
});
afterAll(() => t.close());

function chat(payload: object) {
  return t.app.inject({ method: 'POST', url: '/api/chat', headers: bob, payload });
}

function token(payload: object) {
  return t.app.inject({ method: 'POST', url: '/api/token', headers: bob, payload });
}

function refusal(response: { statusCode: number; json(): { error?: { code: string } } }) {
  return [response.statusCode, response.json().error?.code];
}

describe('a character made private with an existing room', () => {
  it('refuses every way in, ends the open WebSocket, and keeps the history readable', async () => {
    const open = connectChat(`${base}/ws/chat?chat_room_id=${roomId}`, { token: bobToken });
    await open.next(ofType('ready'));
    expect((await token({ room_name: `parley-chat-${roomId}` })).statusCode).toBe(201);
    // The token endpoint now remembers the character as public.
    expect((await token({ character_id: characterId })).statusCode).toBe(201);

    const hide = await t.app.inject({
      method: 'PATCH',
      url: `/api/characters/${characterId}`,
      headers: alice,
      payload: { is_public: false },
    });
    expect(hide.statusCode).toBe(200);

    const unavailable = [403, 'CHARACTER.UNAVAILABLE'];
    expect(refusal(await chat({ message: 'still there?', chat_room_id: roomId }))).toEqual(
      unavailable,
    );
    expect(refusal(await token({ room_name: `parley-chat-${roomId}` }))).toEqual(unavailable);
    const late = connectChat(`${base}/ws/chat?chat_room_id=${roomId}`, { token: bobToken });
    expect(await late.closed).toBe(4403);
    expect(late.frames).toEqual([
      expect.objectContaining({ type: 'error', code: 'CHARACTER.UNAVAILABLE' }),
    ]);
    // By character id the character is simply gone, as any private one: at once, though the
    // token endpoint had remembered it as public (the edit went through this process).
    const gone = [404, 'CHARACTER.NOT_FOUND'];
    expect(refusal(await chat({ message: 'hi', character_id: characterId }))).toEqual(gone);
    expect(refusal(await token({ character_id: characterId }))).toEqual(gone);

    // The conversation that was open is ended, with the reason.
    expect(await open.closed).toBe(4403);
    expect(open.frames.at(-1)).toMatchObject({ type: 'error', code: 'CHARACTER.UNAVAILABLE' });

    const history = await t.app.inject({
      url: `/api/chat-rooms/${roomId}/messages`,
      headers: bob,
    });
    expect(history.statusCode).toBe(200);
    expect(history.json().messages.map((m: { text: string }) => m.text)).toContain('hello');
  });
});

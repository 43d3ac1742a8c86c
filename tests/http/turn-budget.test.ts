import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { connectChat, ofType } from './ws-client.js';

/** One per-user budget of turns a minute, whichever text way the turns come in. */
const PER_MINUTE = 3;
let t: TestApp;
let base: string;
let characterId: string;

beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: String(PER_MINUTE) } });
  base = await t.listen();
  characterId = (await makeCharacter(t.db, await makeUser(t.db), { isPublic: true })).id;
});
afterAll(() => t.close());

describe('the per-user turn budget', () => {
  it('refuses /ws/chat turns past the budget with the client id, and counts them for POST /api/chat', async () => {
    const token = await t.token();
    const client = connectChat(`${base}/ws/chat?character_id=${characterId}`, { token });
    await client.next(ofType('ready'));
    for (let turn = 1; turn <= PER_MINUTE + 1; turn += 1) {
      client.send({ type: 'message', client_id: `turn-${turn}`, text: `Question ${turn}?` });
    }
    const refused = await client.next(ofType('error', { client_id: `turn-${PER_MINUTE + 1}` }));
    expect(refused).toMatchObject({
      code: 'REQUEST.RATE_LIMITED',
      details: { retry_after_seconds: expect.any(Number) },
    });
    for (let turn = 1; turn <= PER_MINUTE; turn += 1) {
      await client.next(ofType('message', { role: 'character', client_id: `turn-${turn}` }));
    }
    expect(client.frames.filter(ofType('error'))).toHaveLength(1);

    // The same user over HTTP has nothing left either; another user is not affected.
    const chat = (headers: { authorization: string }) =>
      t.app.inject({
        method: 'POST',
        url: '/api/chat',
        headers,
        payload: { message: 'And now?', character_id: characterId },
      });
    const over = await chat(bearer(token));
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('REQUEST.RATE_LIMITED');
    expect((await chat(bearer(await t.token()))).statusCode).toBe(200);
    client.socket.close();
  });
});

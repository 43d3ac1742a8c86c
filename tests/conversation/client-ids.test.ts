import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../http/test-app.js';
import { connectChat, ofType } from '../http/ws-client.js';

/** A client may pick any id, even one that looks like the server's own: nothing vanishes. */
let t: TestApp;
let base: string;
let characterId: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.listen();
  characterId = (await makeCharacter(t.db, await makeUser(t.db), { isPublic: true })).id;
});
afterAll(() => t.close());

describe('client ids and the server’s own ids', () => {
  it('stores a message whose client id is "greeting" or "<id>:reply" like any other', async () => {
    const client = connectChat(`${base}/ws/chat?character_id=${characterId}`, {
      token: await t.token(),
    });
    const ready = await client.next(ofType('ready'));
    const say = async (clientId: string, text: string) => {
      t.brain.emulator.enqueueReply(`Reply to ${text}`);
      client.send({ type: 'message', client_id: clientId, text });
      const user = await client.next(ofType('message', { role: 'user', client_id: clientId }));
      const reply = await client.next(
        ofType('message', { role: 'character', client_id: clientId }),
      );
      return [user.text, reply.text];
    };
    expect(await say('greeting', 'First')).toEqual(['First', 'Reply to First']);
    expect(await say('x', 'Second')).toEqual(['Second', 'Reply to Second']);
    expect(await say('x:reply', 'Third')).toEqual(['Third', 'Reply to Third']);
    // The same ids again are retries: answered from what is stored, nothing new.
    expect(await say('x:reply', 'Third')).toEqual(['Third', 'Reply to Third']);

    const stored = await listMessages(t.db, { chatRoomId: Number(ready.chat_room_id), limit: 20 });
    expect(stored.messages.map((m) => m.text)).toEqual([
      'Hello! Ask me anything about the sky.',
      'First',
      'Reply to First',
      'Second',
      'Reply to Second',
      'Third',
      'Reply to Third',
    ]);
    client.socket.close();
  });
});

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../db/schema.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../http/test-app.js';
import { connectChat, ofType } from '../http/ws-client.js';

const CLIENTS = 100;
const MESSAGES_EACH = 5;

let t: TestApp;
let base: string;
let characterId: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.listen();
  characterId = (await makeCharacter(t.db, await makeUser(t.db), { isPublic: true })).id;
});
afterAll(() => t.close());

/** One user on one connection: five messages, each sent when the previous reply is stored. */
async function converse(index: number): Promise<{ chatRoomId: number; replies: string[] }> {
  const client = connectChat(`${base}/ws/chat?character_id=${characterId}`, {
    token: await t.token(),
  });
  const ready = await client.next(ofType('ready'));
  const replies: string[] = [];
  for (let m = 0; m < MESSAGES_EACH; m++) {
    const clientId = `u${index}-m${m}`;
    client.send({ type: 'message', client_id: clientId, text: `client ${index} message ${m}` });
    const reply = await client.next(ofType('message', { role: 'character', client_id: clientId }));
    replies.push(String(reply.text));
  }
  client.socket.close();
  await client.closed;
  return { chatRoomId: Number(ready.chat_room_id), replies };
}

describe('/ws/chat under 100 concurrent clients', () => {
  it('stores every message of every client, each in its own room, and loses none', async () => {
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => converse(i)));
    expect(new Set(results.map((r) => r.chatRoomId)).size).toBe(CLIENTS);
    // The emulator echoes the user's words: every reply answers its own client's message.
    for (const [i, result] of results.entries()) {
      for (const [m, reply] of result.replies.entries()) {
        expect(reply).toContain(`client ${i} message ${m}`);
      }
    }
    const rooms = results.map((r) => r.chatRoomId);
    const counts = await t.db
      .select({ chatRoomId: messages.chatRoomId, count: sql<number>`count(*)::int` })
      .from(messages)
      .where(sql`${messages.chatRoomId} in ${rooms}`)
      .groupBy(messages.chatRoomId);
    expect(counts).toHaveLength(CLIENTS);
    // Each room: the character's greeting, then five messages and five replies.
    expect(counts.every((row) => row.count === MESSAGES_EACH * 2 + 1)).toBe(true);
    // 500 turns through one embedded database: about a minute on a loaded 2-core machine.
  }, 300_000);
});

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { type Character, messages } from '../../db/schema.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from '../http/test-app.js';
import { connectChat } from '../http/ws-client.js';

/** "Not set" the way an env file says it: `OPENAI_API_KEY=` (see loadConfig). */
const NO_OPENAI = { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };
const DETAILS = {
  variable: 'OPENAI_API_KEY or OPENAI_BASE_URL',
  alternative: 'npm run dev:providers',
};

let t: TestApp;
let character: Character;
const logLines: Record<string, unknown>[] = [];
/** Every URL the process fetched while a test ran: none may be a provider's. */
const fetched: string[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  const logs = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  t = await startTestApp({ brainEnv: NO_OPENAI, logDestination: logs });
  character = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
  globalThis.fetch = (input, init) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return realFetch(input, init);
  };
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await t.close();
});

describe('with no LLM configured', () => {
  it('POST /api/chat answers PROVIDER.NOT_CONFIGURED naming the variable, stores nothing', async () => {
    const headers = bearer(await t.token());
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chat',
      headers,
      payload: { message: 'Hello?', character_id: character.id },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toMatchObject({
      code: 'PROVIDER.NOT_CONFIGURED',
      details: DETAILS,
    });
    expect(response.json().error.message).toContain('OPENAI_API_KEY');

    // Nothing stored: no user turn, no apology pretending to be an answer.
    expect(await t.db.select().from(messages)).toEqual([]);
    expect(t.brain.emulator.requests.chatCompletions).toHaveLength(0);
    expect(fetched.filter((url) => url.includes('openai'))).toEqual([]);
    // A refusal, not a fault: logged at info, without a stack trace.
    const refusal = logLines.find((line) => line.code === 'PROVIDER.NOT_CONFIGURED');
    expect(refusal).toMatchObject({ level: 30, msg: 'request refused' });
    expect(logLines.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  it('/ws/chat answers an error frame with the same code; the connection stays open', async () => {
    const url = await t.listen();
    const client = connectChat(`${url}/ws/chat?character_id=${character.id}`, {
      token: await t.token(),
    });
    const ready = await client.next((f) => f.type === 'ready');
    client.send({ type: 'message', client_id: 'first', text: 'Is anyone there?' });
    const error = await client.next((f) => f.type === 'error');
    expect(error).toMatchObject({
      code: 'PROVIDER.NOT_CONFIGURED',
      client_id: 'first',
      details: DETAILS,
    });
    client.send({ type: 'message', client_id: 'second', text: 'Hello?' });
    await client.next((f) => f.type === 'error' && f.client_id === 'second');
    const stored = await listMessages(t.db, { chatRoomId: Number(ready.chat_room_id), limit: 10 });
    // The greeting is the character's own words; no user turn and no apology were stored.
    expect(stored.messages.map((m) => m.sender)).toEqual(['character']);
    expect(stored.messages[0]?.text).toBe(character.greeting);
    expect(fetched.filter((url) => url.includes('openai'))).toEqual([]);
    expect(logLines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    client.socket.close();
    await client.closed;
  });

  it('knowledge search answers the same code; an upload is kept, pending, for later', async () => {
    const headers = bearer(await t.token());
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers,
      payload: { name: 'Mira', instructions: 'You are Mira.' },
    });
    const docs = `/api/characters/${created.json().id}/documents`;
    const upload = await t.app.inject({
      method: 'POST',
      url: docs,
      headers,
      payload: { title: 'Moons', content_type: 'text/plain', content: 'Europa has an ocean.' },
    });
    expect(upload.json()).toMatchObject({ status: 'pending' });

    const search = await t.app.inject({
      url: `/api/characters/${created.json().id}/knowledge?q=ocean`,
      headers,
    });
    expect(search.statusCode).toBe(503);
    expect(search.json().error).toMatchObject({
      code: 'PROVIDER.NOT_CONFIGURED',
      details: DETAILS,
    });
    expect(search.json().error.message).toContain('OPENAI_API_KEY');
    const kept = await t.app.inject({ url: `${docs}/${upload.json().id}`, headers });
    expect(kept.json()).toMatchObject({ status: 'pending', chunk_count: 0 });
    expect(fetched.filter((url) => url.includes('openai'))).toEqual([]);
  });
});

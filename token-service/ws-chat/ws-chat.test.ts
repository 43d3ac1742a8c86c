import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../tests/http/test-app.js';
import { connectChat, ofType } from '../../tests/http/ws-client.js';
import { MAX_FRAME_BYTES } from './frames.js';

let t: TestApp;
let base: string;
let characterId: string;

beforeAll(async () => {
  t = await startTestApp({ webSocket: { authTimeoutMs: 1_000 } });
  base = await t.listen();
  characterId = (await makeCharacter(t.db, await makeUser(t.db), { isPublic: true })).id;
});
afterAll(() => t.close());

const url = (query = `character_id=${characterId}`) => `${base}/ws/chat?${query}`;

async function storedTexts(chatRoomId: number): Promise<string[]> {
  return (await listMessages(t.db, { chatRoomId, limit: 50 })).messages.map((m) => m.text);
}

describe('/ws/chat', () => {
  it('authenticates by sub-protocol, streams deltas, then sends both stored messages', async () => {
    const client = connectChat(url(), { token: await t.token() });
    const ready = await client.next(ofType('ready'));
    expect(client.socket.protocol).toBe('parley.v1');
    expect(ready).toMatchObject({ character_id: characterId, chat_room_id: expect.any(Number) });

    t.brain.emulator.enqueueReply('Io is the most volcanic body we know.');
    client.send({ type: 'message', client_id: 'm1', text: 'Which moon has volcanoes?' });
    const reply = await client.next(ofType('message', { role: 'character', client_id: 'm1' }));
    const user = client.frames.find(ofType('message', { role: 'user' }));
    const deltas = client.frames.filter(ofType('delta')).map((f) => f.text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Io is the most volcanic body we know.');
    const greeting = client.frames.find(ofType('message', { client_id: '' }));
    expect(greeting).toMatchObject({
      role: 'character',
      text: 'Hello! Ask me anything about the sky.',
      seq: 1,
    });
    expect(user).toMatchObject({ client_id: 'm1', text: 'Which moon has volcanoes?', seq: 2 });
    expect(reply).toMatchObject({
      client_id: 'm1',
      text: 'Io is the most volcanic body we know.',
      seq: 3,
    });
    expect(client.frames.indexOf(user ?? {})).toBeLessThan(client.frames.indexOf(reply));
    expect(await storedTexts(Number(ready.chat_room_id))).toEqual([
      'Hello! Ask me anything about the sky.',
      'Which moon has volcanoes?',
      'Io is the most volcanic body we know.',
    ]);

    // The same client id again (a resend after a reconnect) stores nothing new.
    client.send({ type: 'message', client_id: 'm1', text: 'Which moon has volcanoes?' });
    const resent = await client.next(
      (f) => f.type === 'message' && f.role === 'character' && f.client_id === 'm1' && f !== reply,
    );
    expect(resent.id).toBe(reply.id);
    expect(await storedTexts(Number(ready.chat_room_id))).toHaveLength(3);
    client.socket.close();
  });

  it('authenticates with a first auth frame and a room id', async () => {
    const sub = crypto.randomUUID();
    const owner = connectChat(url(), { token: await t.token({ sub }) });
    const { chat_room_id: roomId } = await owner.next(ofType('ready'));
    owner.socket.close();

    const client = connectChat(url(`chat_room_id=${roomId}`));
    client.send({ type: 'auth', token: await t.token({ sub }) });
    expect(await client.next(ofType('ready'))).toMatchObject({ chat_room_id: roomId });
    client.send({ type: 'auth', token: 'again' });
    expect(await client.next(ofType('error'))).toMatchObject({ code: 'REQUEST.INVALID' });
    client.socket.close();
  });

  it('answers bad frames with error frames and stays usable', async () => {
    const client = connectChat(url(), { token: await t.token() });
    await client.next(ofType('ready'));
    const bad = ['not json', '[1,2]', '{"type":"shout"}', '{"type":"message","text":"hi"}'];
    for (const frame of bad) client.send(frame);
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    client.send({ type: 'message', client_id: 'ok', text: 'Still there?' });
    await client.next(ofType('message', { role: 'character', client_id: 'ok' }));
    const errors = client.frames.filter(ofType('error'));
    expect(errors).toHaveLength(5);
    expect(errors.every((e) => e.code === 'REQUEST.INVALID')).toBe(true);
    expect(errors[3]?.details).toEqual([expect.objectContaining({ field: 'client_id' })]);
    client.socket.close();
  });

  it('closes with 4401 for a bad token, a message before auth, or no auth in time', async () => {
    const forged = connectChat(url(), { token: `${await t.token()}x` });
    expect(await forged.closed).toBe(4401);
    expect(forged.frames).toEqual([
      expect.objectContaining({ type: 'error', code: 'AUTH.INVALID' }),
    ]);

    const eager = connectChat(url());
    eager.send({ type: 'message', client_id: 'x', text: 'hi' });
    expect(await eager.closed).toBe(4401);
    expect(eager.frames[0]).toMatchObject({ code: 'AUTH.MISSING' });

    const silent = connectChat(url());
    expect(await silent.closed).toBe(4401);
    expect(silent.frames[0]).toMatchObject({ code: 'AUTH.MISSING' });
  });

  it('closes with 4404 for an unknown character', async () => {
    const client = connectChat(url(`character_id=${crypto.randomUUID()}`), {
      token: await t.token(),
    });
    expect(await client.closed).toBe(4404);
    expect(client.frames[0]).toMatchObject({ code: 'CHARACTER.NOT_FOUND' });
  });

  it('refuses the handshake without a room in the query', async () => {
    const client = connectChat(`${base}/ws/chat`, { token: await t.token() });
    const status = await new Promise<number>((resolve) =>
      client.socket.on('unexpected-response', (_request, response) =>
        resolve(response.statusCode ?? 0),
      ),
    );
    expect(status).toBe(400);
  });

  it('closes with 1009 on an oversized frame', async () => {
    const client = connectChat(url(), { token: await t.token() });
    await client.next(ofType('ready'));
    client.send({ type: 'message', client_id: 'big', text: 'x'.repeat(MAX_FRAME_BYTES) });
    expect(await client.closed).toBe(1009);
  });

  it('stores the whole reply when the client leaves mid-reply', async () => {
    const client = connectChat(url(), { token: await t.token() });
    const { chat_room_id: roomId } = await client.next(ofType('ready'));
    const answer = 'Titan has lakes of liquid methane and a thick orange haze above them.';
    t.brain.emulator.enqueueReply(answer);
    t.brain.emulator.tokensPerSecond = 40;
    try {
      client.send({ type: 'message', client_id: 'gone', text: 'Tell me about Titan' });
      await client.next(ofType('delta'));
      client.socket.terminate();
      await client.closed;
      for (;;) {
        const texts = await storedTexts(Number(roomId));
        if (texts.length === 3) {
          expect(texts).toEqual([
            'Hello! Ask me anything about the sky.',
            'Tell me about Titan',
            answer,
          ]);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      t.brain.emulator.tokensPerSecond = Number.POSITIVE_INFINITY;
    }
  });
});

describe('/ws/chat keepalive', () => {
  let k: TestApp;
  let kBase: string;
  beforeAll(async () => {
    // Long enough that a loaded machine's pauses do not make the live client miss a pong.
    k = await startTestApp({ webSocket: { pingIntervalMs: 1_000 } });
    kBase = await k.listen();
  });
  afterAll(() => k.close());

  it('pings idle clients, keeps those that answer and drops those that do not', async () => {
    const character = await makeCharacter(k.db, await makeUser(k.db), { isPublic: true });
    const target = `${kBase}/ws/chat?character_id=${character.id}`;
    const live = connectChat(target, { token: await k.token() });
    const dead = connectChat(target, { token: await k.token(), autoPong: false });
    await Promise.all([live.next(ofType('ready')), dead.next(ofType('ready'))]);
    let pings = 0;
    live.socket.on('ping', () => {
      pings += 1;
    });
    // A client that never answers is cut off after the ping it left unanswered.
    expect(await dead.closed).toBe(1006);
    while (pings < 3) await new Promise((resolve) => live.socket.once('ping', resolve));
    expect(live.socket.readyState).toBe(live.socket.OPEN);
    live.socket.close();
  });
});

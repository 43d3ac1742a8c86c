import { TokenVerifier } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatRoomIdOf, roomNameOf } from '../../core/livekit-dispatch.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { bearer, startTestApp, TEST_LIVEKIT, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;
const verifier = new TokenVerifier(TEST_LIVEKIT.apiKey, TEST_LIVEKIT.apiSecret);

beforeAll(async () => {
  t = await startTestApp({ env: { ROOM_TOKEN_TTL_MS: '300000' } });
});
afterAll(() => t.close());

async function requestToken(token: string, payload: object) {
  return t.app.inject({ method: 'POST', url: '/api/token', headers: bearer(token), payload });
}

describe('POST /api/token', () => {
  it('issues a token for exactly one room with exactly the grants, and dispatches the agent', async () => {
    const owner = await makeUser(t.db, 'Owner');
    const mira = await makeCharacter(t.db, owner, { isPublic: true });
    const userId = crypto.randomUUID();
    const response = await requestToken(await t.token({ sub: userId }), {
      character_id: mira.id,
      participant_name: 'Ada',
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      server_url: TEST_LIVEKIT.url,
      participant_token: expect.any(String),
      room_name: roomNameOf(body.chat_room_id),
      chat_room_id: expect.any(Number),
    });

    const claims = await verifier.verify(body.participant_token);
    expect(claims.sub).toBe(userId);
    expect(claims.iss).toBe(TEST_LIVEKIT.apiKey);
    expect(claims.name).toBe('Ada');
    expect(Number(claims.exp) - Number(claims.nbf)).toBe(300);
    expect(claims.video).toEqual({
      roomJoin: true,
      room: body.room_name,
      canPublish: true,
      canPublishSources: ['microphone', 'camera'],
      canSubscribe: true,
      canPublishData: true,
    });
    const agents = (claims.roomConfig as { agents: { agentName: string; metadata: string }[] })
      .agents;
    expect(agents).toHaveLength(1);
    expect(agents[0]?.agentName).toBe(TEST_LIVEKIT.agentName);
    expect(JSON.parse(agents[0]?.metadata ?? '')).toEqual({
      chat_room_id: body.chat_room_id,
      character_id: mira.id,
      user_id: userId,
    });
    // Nothing else: no admin grants, no other claims a client could use.
    expect(Object.keys(claims).sort()).toEqual(
      ['exp', 'iss', 'name', 'nbf', 'roomConfig', 'sub', 'video'].sort(),
    );
  });

  it('gives the same room again by room_name, and names the user from the profile', async () => {
    const userId = crypto.randomUUID();
    const token = await t.token({ sub: userId, user_metadata: { full_name: 'Grace Hopper' } });
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const first = (await requestToken(token, { character_id: mira.id })).json();
    const again = await requestToken(token, {
      room_name: first.room_name,
      participant_identity: userId,
      room_config: { agents: [{ agent_name: 'someone-elses-agent' }] },
    });
    expect(again.statusCode).toBe(201);
    expect(again.json().chat_room_id).toBe(first.chat_room_id);
    const claims = await verifier.verify(again.json().participant_token);
    expect(claims.name).toBe('Grace Hopper');
    const config = claims.roomConfig as { agents: { agentName: string }[] };
    expect(config.agents.map((a) => a.agentName)).toEqual([TEST_LIVEKIT.agentName]);
  });

  it('refuses another identity, another user’s room and names Parley never made', async () => {
    const alice = crypto.randomUUID();
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const aliceRoom = (
      await requestToken(await t.token({ sub: alice }), { character_id: mira.id })
    ).json().room_name;
    const bob = await t.token();
    for (const room_name of [aliceRoom, 'parley-chat-999999', 'lobby', 'parley-chat-01']) {
      const response = await requestToken(bob, { room_name });
      expect(response.statusCode, room_name).toBe(403);
      expect(response.json().error.code).toBe('ROOM.FORBIDDEN');
      expect(response.body).not.toContain('participant_token');
    }
    const impostor = await requestToken(bob, {
      character_id: mira.id,
      participant_identity: alice,
    });
    expect(impostor.statusCode).toBe(400);
    expect(impostor.json().error.details[0].field).toBe('participant_identity');
  });

  it('answers 404 for an unknown or private character, 400 for neither room nor character', async () => {
    const token = await t.token();
    const unknown = await requestToken(token, { character_id: crypto.randomUUID() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('CHARACTER.NOT_FOUND');
    const secret = await makeCharacter(t.db, await makeUser(t.db));
    expect((await requestToken(token, { character_id: secret.id })).statusCode).toBe(404);
    const neither = await requestToken(token, {});
    expect(neither.statusCode).toBe(400);
  });

  it('needs a token', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/token', payload: {} });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('AUTH.MISSING');
  });
});

describe('without LiveKit', () => {
  let bare: TestApp;
  beforeAll(async () => {
    bare = await startTestApp({ withoutLiveKit: true });
  });
  afterAll(() => bare.close());

  it('answers 503 LIVEKIT.NOT_CONFIGURED and creates no room', async () => {
    const mira = await makeCharacter(bare.db, await makeUser(bare.db), { isPublic: true });
    const token = await bare.token();
    const response = await bare.app.inject({
      method: 'POST',
      url: '/api/token',
      headers: bearer(token),
      payload: { character_id: mira.id },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('LIVEKIT.NOT_CONFIGURED');
    const rooms = await bare.app.inject({ url: '/api/chat-rooms', headers: bearer(token) });
    expect(rooms.json()).toEqual([]);
  });
});

describe('room names', () => {
  it('round-trips chat room ids and rejects anything else', () => {
    expect(chatRoomIdOf(roomNameOf(42))).toBe(42);
    for (const name of [
      'parley-chat-0',
      'parley-chat-',
      'parley-chat-1x',
      'parley-chat-99999999999',
    ]) {
      expect(chatRoomIdOf(name), name).toBeUndefined();
    }
  });
});

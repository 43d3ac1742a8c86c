import { TokenSource } from 'livekit-client';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomNameOf } from '../../core/livekit-dispatch.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { startTestApp, TEST_LIVEKIT, type TestApp } from '../../tests/http/test-app.js';

/**
 * A mobile app's view: LiveKit's own `TokenSource.endpoint` (livekit-client, whose Swift,
 * Kotlin and Flutter twins send the same request) against `POST /api/token`, with nothing
 * Parley-specific but the sign-in header and the character in the agent metadata.
 */
let t: TestApp;
let endpoint: string;
const verifier = new TokenVerifier(TEST_LIVEKIT.apiKey, TEST_LIVEKIT.apiSecret);

beforeAll(async () => {
  t = await startTestApp();
  endpoint = `${(await t.listen()).replace(/^ws/, 'http')}/api/token`;
});
afterAll(() => t.close());

function tokenSource(accessToken: string) {
  return TokenSource.endpoint(endpoint, { headers: { Authorization: `Bearer ${accessToken}` } });
}

describe("LiveKit's standard token source against POST /api/token", () => {
  it('names the character in the agent metadata and gets a token that dispatches it', async () => {
    const mira = await makeCharacter(t.db, await makeUser(t.db, 'Owner'), { isPublic: true });
    const userId = crypto.randomUUID();
    const source = tokenSource(await t.token({ sub: userId }));

    const response = await source.fetch({
      participantName: 'Ada',
      agentName: TEST_LIVEKIT.agentName,
      agentMetadata: JSON.stringify({ character_id: mira.id }),
    });

    expect(response.serverUrl).toBe(TEST_LIVEKIT.url);
    const claims = await verifier.verify(response.participantToken);
    expect(claims.sub).toBe(userId);
    expect(claims.name).toBe('Ada');
    const room = claims.video?.room ?? '';
    expect(room).toMatch(/^parley-chat-\d+$/);
    const agents = (claims.roomConfig as { agents: { agentName: string; metadata: string }[] })
      .agents;
    expect(agents.map((a) => a.agentName)).toEqual([TEST_LIVEKIT.agentName]);
    const dispatched = JSON.parse(agents[0]?.metadata ?? '{}');
    expect(dispatched).toMatchObject({ character_id: mira.id, user_id: userId });
    expect(roomNameOf(dispatched.chat_room_id)).toBe(room);

    // The app's next call with the room name it was given lands in the same room.
    const again = await tokenSource(await t.token({ sub: userId })).fetch({ roomName: room });
    expect((await verifier.verify(again.participantToken)).video?.room).toBe(room);
  });

  it('refuses agent metadata that names no character, saying where to put it', async () => {
    const source = tokenSource(await t.token());

    await expect(
      source.fetch({ participantName: 'Ada', agentMetadata: '{"character":"mira"}' }),
    ).rejects.toThrow(/400/);
    const direct = await fetch(endpoint, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await t.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room_config: { agents: [{ metadata: 'not json' }] } }),
    });
    expect(direct.status).toBe(400);
    expect(await direct.json()).toMatchObject({
      error: { code: 'REQUEST.INVALID' },
    });
  });

  it('refuses a character in the metadata that differs from character_id', async () => {
    const owner = await makeUser(t.db, 'Owner');
    const [a, b] = await Promise.all([
      makeCharacter(t.db, owner, { isPublic: true }),
      makeCharacter(t.db, owner, { isPublic: true }),
    ]);
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await t.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        character_id: a.id,
        room_config: { agents: [{ metadata: JSON.stringify({ character_id: b.id }) }] },
      }),
    });
    expect(response.status).toBe(400);
  });
});

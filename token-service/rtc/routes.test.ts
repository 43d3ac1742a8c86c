import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCharacter,
  type DirectTestApp,
  devSession,
  startDirectTestApp,
  until,
} from '../../tests/e2e/direct-app.js';
import { EXCHANGES } from '../../tests/e2e/script.js';
import { LOOPBACK_ICE, TestBrowser } from '../../tests/helpers/test-browser.js';

let parley: DirectTestApp;
let owner: { token: string; userId: string };
let stranger: { token: string; userId: string };
let characterId: string;
let offerSdp: string;
const browsers: TestBrowser[] = [];

beforeAll(async () => {
  parley = await startDirectTestApp({ exchanges: EXCHANGES.slice(0, 1), peer: LOOPBACK_ICE });
  owner = await devSession(parley.baseUrl);
  stranger = await devSession(parley.baseUrl);
  characterId = await createCharacter(parley.baseUrl, owner.token, 'Private');
  offerSdp = await newOffer();
});
afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await parley?.close();
});

async function newOffer(): Promise<string> {
  const browser = new TestBrowser();
  browsers.push(browser);
  return browser.offer();
}

function offer(query: string, init: { token?: string; type?: string; body?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/sdp' };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  return fetch(`${parley.baseUrl}/api/rtc/offer?${query}`, {
    method: 'POST',
    headers,
    body: init.body ?? offerSdp,
  });
}

async function errorCode(response: Response): Promise<[number, string]> {
  const body = (await response.json()) as { error: { code: string } };
  return [response.status, body.error.code];
}

describe('POST /api/rtc/offer and DELETE /api/rtc/sessions/:id', () => {
  it('answers an offer with 201, the SDP answer as is, its Location and room; only the owner hangs up', async () => {
    const response = await offer(`character_id=${characterId}`, { token: owner.token });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/sdp');
    const answer = await response.text();
    expect(answer.startsWith('v=0\r\n')).toBe(true);
    expect(answer).toMatch(/^a=candidate:/m);
    const location = response.headers.get('location') ?? '';
    expect(location).toMatch(/^\/api\/rtc\/sessions\/[0-9a-f-]{36}$/);
    const chatRoomId = Number(response.headers.get('parley-chat-room-id'));
    expect(parley.calls.size).toBe(1);

    const sameRoom = await offer(`chat_room_id=${chatRoomId}`, { token: stranger.token });
    expect(await errorCode(sameRoom)).toEqual([403, 'ROOM.FORBIDDEN']);

    const hangUp = (token: string, path = location) =>
      fetch(`${parley.baseUrl}${path}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect(await errorCode(await hangUp(stranger.token))).toEqual([403, 'SESSION.FORBIDDEN']);
    expect(parley.calls.size).toBe(1);
    expect((await hangUp(owner.token)).status).toBe(204);
    expect(parley.calls.size).toBe(0);
    expect(await errorCode(await hangUp(owner.token))).toEqual([404, 'SESSION.NOT_FOUND']);
  });

  it('refuses callers without a token, bodies that are not SDP, and rooms that are not theirs', async () => {
    expect(await errorCode(await offer(`character_id=${characterId}`))).toEqual([
      401,
      'AUTH.MISSING',
    ]);
    const json = await offer(`character_id=${characterId}`, {
      token: owner.token,
      type: 'application/json',
      body: '{"sdp":"v=0"}',
    });
    expect(await errorCode(json)).toEqual([415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE']);
    // Someone else's private character is reported as missing, as everywhere in the API.
    const hidden = await offer(`character_id=${characterId}`, { token: stranger.token });
    expect(await errorCode(hidden)).toEqual([404, 'CHARACTER.NOT_FOUND']);
    const noRoom = await offer('chat_room_id=999999', { token: owner.token });
    expect(await errorCode(noRoom)).toEqual([404, 'ROOM.NOT_FOUND']);
    const both = await offer(`chat_room_id=1&character_id=${characterId}`, { token: owner.token });
    expect(await errorCode(both)).toEqual([400, 'REQUEST.INVALID']);
    const noAudio = await offer(`character_id=${characterId}`, {
      token: owner.token,
      body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
    });
    expect(await errorCode(noAudio)).toEqual([400, 'REQUEST.INVALID']);
    expect(parley.calls.size).toBe(0);
  });

  it('ends the session within seconds when the browser closes its peer, without any DELETE', async () => {
    const browser = new TestBrowser();
    browsers.push(browser);
    const response = await offer(`character_id=${characterId}`, {
      token: owner.token,
      body: await browser.offer(),
    });
    await browser.accept(await response.text());
    while (browser.pc.connectionState !== 'connected') {
      await browser.pc.connectionStateChange.asPromise();
    }
    expect(parley.calls.size).toBe(1);
    await browser.close();
    await until('the server ended the call', () => parley.calls.size === 0, 10_000);
  });

  it('ends a running call, with the reason, once its character is made private', async () => {
    const publicId = await createCharacter(parley.baseUrl, owner.token, 'Public for now');
    const setPublic = (isPublic: boolean) =>
      fetch(`${parley.baseUrl}/api/characters/${publicId}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ is_public: isPublic }),
      });
    expect((await setPublic(true)).status).toBe(200);
    const browser = new TestBrowser();
    browsers.push(browser);
    const response = await offer(`character_id=${publicId}`, {
      token: stranger.token,
      body: await browser.offer(),
    });
    expect(response.status).toBe(201);
    const chatRoomId = Number(response.headers.get('parley-chat-room-id'));
    await browser.accept(await response.text());
    await until('the call is up', () => browser.pc.connectionState === 'connected', 10_000);

    expect((await setPublic(false)).status).toBe(200);
    const again = await offer(`chat_room_id=${chatRoomId}`, { token: stranger.token });
    expect(await errorCode(again)).toEqual([403, 'CHARACTER.UNAVAILABLE']);
    await until('the server ended the call', () => parley.calls.size === 0, 20_000);
    await until(
      'the page was told why',
      () => browser.messages.some((m) => (m as { type: string }).type === 'ended'),
      10_000,
    );
    expect(browser.messages.find((m) => (m as { type: string }).type === 'ended')).toMatchObject({
      code: 'CHARACTER.UNAVAILABLE',
    });
  });

  it('refuses an offer with more media sections than a call uses, before making a peer', async () => {
    // The offer’s own audio section, 40 more times under new mids (the body limit stops more):
    // valid SDP that a peer would answer with 40 more transceivers and their sockets.
    const audio = /m=audio[\s\S]*?(?=m=|$)/.exec(offerSdp)?.[0] ?? '';
    expect(audio).toContain('a=mid:');
    const extra = Array.from({ length: 40 }, (_, i) =>
      audio.replace(/a=mid:.*\r\n/, `a=mid:extra${i}\r\n`),
    );
    const response = await offer(`character_id=${characterId}`, {
      token: owner.token,
      body: `${offerSdp}${extra.join('')}`,
    });
    expect(await errorCode(response)).toEqual([400, 'REQUEST.INVALID']);
    expect(parley.calls.size).toBe(0);
  });
});

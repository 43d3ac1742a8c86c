import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../agent/providers/local/wav.js';
import {
  type CartesiaEmulator,
  startCartesiaEmulator,
} from '../../tests/dev-tools/providers/cartesia-emulator.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;
let cartesia: CartesiaEmulator;
let alice: { authorization: string };
let bob: { authorization: string };

beforeAll(async () => {
  cartesia = await startCartesiaEmulator({ apiKey: 'cartesia-test-key' });
  t = await startTestApp({
    env: { CARTESIA_API_KEY: 'cartesia-test-key', CARTESIA_BASE_URL: cartesia.baseURL },
  });
  alice = bearer(await t.token());
  bob = bearer(await t.token());
});
afterAll(async () => {
  await t.close();
  await cartesia.close();
});

/** A WAV clip of `seconds` of a quiet tone, as the page's recorder uploads it. */
function clip(seconds: number, sampleRate = 16_000): Buffer {
  const samples = new Int16Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i += 1) samples[i] = Math.round(3000 * Math.sin(i / 8));
  return encodeWav({ samples, sampleRate });
}

function upload(headers: object, body: Buffer, query = 'name=Me&language=en', type = 'audio/wav') {
  return t.app.inject({
    method: 'POST',
    url: `/api/voices/clones?${query}`,
    headers: { ...headers, 'content-type': type },
    payload: body,
  });
}

describe('GET /api/voices', () => {
  it('lists Cartesia’s library through the client, filtered by language and searchable', async () => {
    const all = (await t.app.inject({ url: '/api/voices', headers: alice })).json();
    expect(all.provider).toBe('cartesia');
    expect(all.notice).toBeNull();
    // The emulator's library (8 voices) arrives whole although the client pages through it.
    expect(all.voices).toHaveLength(8);
    const spanish = (await t.app.inject({ url: '/api/voices?language=es-MX', headers: alice }))
      .json()
      .voices.map((voice: { language: string }) => voice.language);
    expect(spanish).toEqual(['es', 'es']);
    const found = (await t.app.inject({ url: '/api/voices?q=barbershop', headers: alice })).json();
    expect(found.voices.map((voice: { name: string }) => voice.name)).toEqual(['Barbershop Man']);
  });

  it('fetches the library from Cartesia once and serves later lists from its cache', async () => {
    const before = listRequests();
    await t.app.inject({ url: '/api/voices?language=de', headers: alice });
    await t.app.inject({ url: '/api/voices?q=sarah', headers: bob });
    expect(listRequests()).toBe(before);
  });

  it('serves a WAV preview made once, with caching headers', async () => {
    const id = '2deb3edf-b9d8-4d06-8db9-5742fb8a3cb2';
    const first = await t.app.inject({ url: `/api/voices/${id}/preview`, headers: alice });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('audio/wav');
    expect(first.headers['cache-control']).toContain('max-age=');
    expect(decodeWav(first.rawPayload).samples.length).toBeGreaterThan(1000);
    const synthesised = cartesia.requests.bytes.filter((r) => r.voice.mode === 'id');
    expect(synthesised.at(-1)).toMatchObject({ voice: { id }, language: 'es' });
    const again = await t.app.inject({ url: `/api/voices/${id}/preview`, headers: bob });
    expect(again.rawPayload.equals(first.rawPayload)).toBe(true);
    expect(cartesia.requests.bytes).toHaveLength(synthesised.length);
  });

  it('refuses a preview of a voice that is neither in the library nor yours', async () => {
    const response = await t.app.inject({ url: '/api/voices/not-a-voice/preview', headers: alice });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('VOICE.NOT_FOUND');
  });
});

function listRequests(): number {
  return cartesia.voices.listCalls;
}

describe('voice cloning', () => {
  it('refuses clips that are too short, too long, too large or not WAV, with their codes', async () => {
    const cases: [Buffer, string, string][] = [
      [clip(2), 'audio/wav', 'VOICE.CLIP_TOO_SHORT'],
      [clip(31), 'audio/wav', 'VOICE.CLIP_TOO_LONG'],
      [clip(25, 96_000), 'audio/wav', 'REQUEST.TOO_LARGE'],
      [Buffer.from('RIFF....not really'), 'audio/wav', 'VOICE.CLIP_FORMAT'],
      [clip(12), 'audio/webm', 'VOICE.CLIP_FORMAT'],
    ];
    for (const [body, type, code] of cases) {
      const response = await upload(alice, body, 'name=Me&language=en', type);
      expect({ code: response.json().error.code, status: response.statusCode }).toMatchObject({
        code,
      });
    }
    expect(cartesia.voices.clones).toHaveLength(0);
  });

  it('clones at Cartesia for its owner only; others cannot see, use, hear or delete it', async () => {
    const made = await upload(alice, clip(12), 'name=My%20voice&language=de');
    expect(made.statusCode).toBe(201);
    const voice = made.json();
    expect(cartesia.voices.clones.at(-1)).toMatchObject({
      voiceId: voice.id,
      name: 'My voice',
      language: 'de',
      clipType: 'audio/wav',
    });

    const mine = (await t.app.inject({ url: '/api/voices?language=de', headers: alice })).json();
    expect(mine.voices[0]).toMatchObject({ id: voice.id, source: 'cloned' });
    const theirs = (await t.app.inject({ url: '/api/voices', headers: bob })).json();
    expect(theirs.voices.map((v: { id: string }) => v.id)).not.toContain(voice.id);
    expect((await t.app.inject({ url: '/api/voices/clones', headers: bob })).json()).toEqual([]);

    const bobCharacter = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: bob,
      payload: { name: 'Thief', instructions: 'x', voice_id: voice.id },
    });
    expect(bobCharacter.json().error.code).toBe('VOICE.NOT_FOUND');
    const bobHears = await t.app.inject({ url: `/api/voices/${voice.id}/preview`, headers: bob });
    expect(bobHears.statusCode).toBe(404);
    const bobDeletes = await t.app.inject({
      method: 'DELETE',
      url: `/api/voices/clones/${voice.id}`,
      headers: bob,
    });
    expect(bobDeletes.statusCode).toBe(404);
    expect(cartesia.voices.deleted).toEqual([]);

    const aliceCharacter = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: alice,
      payload: { name: 'Echo', instructions: 'x', voice_id: voice.id, language: 'de' },
    });
    expect(aliceCharacter.statusCode).toBe(201);
    const aliceHears = await t.app.inject({
      url: `/api/voices/${voice.id}/preview`,
      headers: alice,
    });
    expect(aliceHears.statusCode).toBe(200);

    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/api/voices/clones/${voice.id}`,
      headers: alice,
    });
    expect(deleted.statusCode).toBe(204);
    expect(cartesia.voices.deleted).toEqual([voice.id]);
    expect((await t.app.inject({ url: '/api/voices/clones', headers: alice })).json()).toEqual([]);
    const character = await t.app.inject({
      url: `/api/characters/${aliceCharacter.json().id}`,
      headers: alice,
    });
    expect(character.json().voice_id).toBeNull();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../agent/providers/local/wav.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;
let headers: { authorization: string };

beforeAll(async () => {
  t = await startTestApp();
  headers = bearer(await t.token());
});
afterAll(() => t.close());

describe('voices without a Cartesia key', () => {
  it('offers the one built-in voice and says why, with a flite preview', async () => {
    const list = (await t.app.inject({ url: '/api/voices', headers })).json();
    expect(list.provider).toBe('flite');
    expect(list.notice).toContain('CARTESIA_API_KEY');
    expect(list.voices).toEqual([expect.objectContaining({ id: 'flite', source: 'builtin' })]);
    const config = (await t.app.inject({ url: '/api/client-config' })).json();
    expect(config.providers.voices).toBe('flite');
    const preview = await t.app.inject({ url: list.voices[0].preview_url, headers });
    expect(preview.statusCode).toBe(200);
    expect(decodeWav(preview.rawPayload).sampleRate).toBe(16_000);
  });

  it('refuses to clone with PROVIDER.NOT_CONFIGURED naming the variable', async () => {
    const clip = encodeWav({ samples: new Int16Array(16_000 * 12), sampleRate: 16_000 });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/voices/clones?name=Me',
      headers: { ...headers, 'content-type': 'audio/wav' },
      payload: clip,
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toMatchObject({
      code: 'PROVIDER.NOT_CONFIGURED',
      details: { variable: 'CARTESIA_API_KEY' },
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getProfile } from '../../db/queries/profiles.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('characters', () => {
  it('creates a character for a first-time user, making their profile from the token', async () => {
    const sub = crypto.randomUUID();
    const headers = bearer(
      await t.token({ sub, email: 'ada@example.com', user_metadata: { full_name: 'Ada L.' } }),
    );
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers,
      payload: { name: ' Mira ', instructions: 'You are Mira.', greeting: 'Hi!' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      owner_id: sub,
      name: 'Mira',
      instructions: 'You are Mira.',
      greeting: 'Hi!',
      voice_id: null,
      language: 'en',
      is_public: false,
      is_own: true,
    });
    expect(await getProfile(t.db, sub)).toMatchObject({
      displayName: 'Ada L.',
      accountName: 'ada',
    });
  });

  it('names a profile after the e-mail when the token has no display name', async () => {
    const sub = crypto.randomUUID();
    await t.app.inject({
      url: '/api/characters',
      headers: bearer(await t.token({ sub, email: 'grace@example.com' })),
    });
    expect((await getProfile(t.db, sub))?.displayName).toBe('grace');
  });

  it('updates only the fields given, and can make a character public', async () => {
    const headers = bearer(await t.token());
    const created = (
      await t.app.inject({
        method: 'POST',
        url: '/api/characters',
        headers,
        payload: { name: 'Orin', instructions: 'You are Orin.', greeting: 'Yo' },
      })
    ).json();
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/characters/${created.id}`,
      headers,
      payload: { is_public: true, greeting: null },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'Orin',
      instructions: 'You are Orin.',
      greeting: null,
      is_public: true,
    });
    const empty = await t.app.inject({
      method: 'PATCH',
      url: `/api/characters/${created.id}`,
      headers,
      payload: {},
    });
    expect(empty.statusCode).toBe(400);
    const someoneElse = await t.app.inject({
      url: '/api/characters',
      headers: bearer(await t.token()),
    });
    const seen = someoneElse.json().find((c: { id: string }) => c.id === created.id);
    expect(seen).toMatchObject({ name: 'Orin', is_own: false });
    expect(seen.instructions).toBeUndefined();
  });

  it('answers 404 for a character that does not exist', async () => {
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/characters/${crypto.randomUUID()}`,
      headers: bearer(await t.token()),
      payload: { name: 'x' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('CHARACTER.NOT_FOUND');
  });
});

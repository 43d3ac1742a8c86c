import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';
import { MAX_PICTURE_BYTES, PICTURE_SIZE } from './picture.js';

let t: TestApp;
let alice: { authorization: string };
let bob: { authorization: string };

async function create(headers: { authorization: string }, payload: object): Promise<string> {
  const response = await t.app.inject({ method: 'POST', url: '/api/characters', headers, payload });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

function put(id: string, body: Buffer, type: string, headers = alice) {
  return t.app.inject({
    method: 'PUT',
    url: `/api/characters/${id}/picture`,
    headers: { ...headers, 'content-type': type },
    payload: body,
  });
}

function get(id: string, headers: Record<string, string> = alice) {
  return t.app.inject({ url: `/api/characters/${id}/picture`, headers });
}

/** A plain PNG of the given size, as a camera or a drawing program would send it. */
async function photo(width: number, height: number, background = '#c03030'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  t = await startTestApp();
  alice = bearer(await t.token());
  bob = bearer(await t.token());
});
afterAll(() => t.close());

describe('a character’s picture', () => {
  it('stores an upload as a resized WebP square and serves it', async () => {
    const id = await create(alice, { name: 'Painter', instructions: 'x', is_public: true });
    const stored = await put(id, await photo(900, 600), 'image/png');
    expect(stored.statusCode).toBe(204);
    expect(stored.headers.etag).toMatch(/^".+"$/);

    const served = await get(id, bob);
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/webp');
    expect(served.headers.etag).toBe(stored.headers.etag);
    expect(served.headers['cache-control']).toBe('private, no-cache');
    const meta = await sharp(served.rawPayload).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: PICTURE_SIZE, height: PICTURE_SIZE });
  });

  it('answers 304 to a matching If-None-Match, and 200 again after a new upload', async () => {
    const id = await create(alice, { name: 'Sculptor', instructions: 'x' });
    await put(id, await photo(300, 300), 'image/png');
    const first = await get(id);
    const etag = String(first.headers.etag);
    const again = await get(id, { ...alice, 'if-none-match': `W/${etag}, "other"` });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);

    const jpeg = await sharp(await photo(400, 800, '#3050c0'))
      .jpeg()
      .toBuffer();
    expect((await put(id, jpeg, 'image/jpeg')).statusCode).toBe(204);
    const changed = await get(id, { ...alice, 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });

  it('serves the initial as SVG when there is no picture', async () => {
    const id = await create(alice, { name: 'ödipus', instructions: 'x' });
    const served = await get(id);
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(served.body).toContain('>Ö</text>');
    expect(
      (await get(id, { ...alice, 'if-none-match': String(served.headers.etag) })).statusCode,
    ).toBe(304);
  });

  it('refuses a wrong type (415), a non-image (422) and a too large body (413)', async () => {
    const id = await create(alice, { name: 'Refuser', instructions: 'x' });
    const text = await put(id, Buffer.from('hello'), 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().error.message).toContain('image/png');
    const fake = await put(id, Buffer.from('not a png at all'), 'image/png');
    expect(fake.statusCode).toBe(422);
    expect(fake.json().error.code).toBe('PICTURE.UNREADABLE');
    const huge = await put(id, Buffer.alloc(MAX_PICTURE_BYTES + 1), 'image/png');
    expect(huge.statusCode).toBe(413);
    expect((await get(id)).headers['content-type']).toMatch(/^image\/svg\+xml/);
  });

  it('hides someone else’s private character (404) and keeps others from uploading', async () => {
    const secret = await create(alice, { name: 'Secret', instructions: 'x' });
    await put(secret, await photo(64, 64), 'image/png');
    expect((await get(secret, bob)).statusCode).toBe(404);
    expect((await put(secret, await photo(64, 64), 'image/png', bob)).statusCode).toBe(404);
    const shown = await create(alice, { name: 'Shown', instructions: 'x', is_public: true });
    expect((await put(shown, await photo(64, 64), 'image/png', bob)).statusCode).toBe(403);
  });
});

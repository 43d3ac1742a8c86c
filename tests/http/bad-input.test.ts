import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from './test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      BODY_LIMIT_BYTES: '2048',
      RATE_LIMIT_PER_MINUTE: '3',
      CORS_ORIGINS: 'https://app.example, https://admin.example',
    },
  });
});
afterAll(() => t.close());

describe('bad input gets JSON errors', () => {
  it('answers an unknown route with 404 in the error shape', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.json()).toEqual({
      error: { code: 'ROUTE.NOT_FOUND', message: 'No route GET /nope' },
    });
  });

  it('refuses a body over the limit with 413', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: bearer(await t.token()),
      payload: { name: 'Big', instructions: 'x'.repeat(4096) },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('REQUEST.TOO_LARGE');
  });

  it('names every invalid field with 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: bearer(await t.token()),
      payload: { name: '', is_public: 'yes', extra: 1 },
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('REQUEST.INVALID');
    const fields = error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'instructions', 'is_public']));
    expect(error.details.every((d: { in: string }) => d.in === 'body')).toBe(true);
    expect(error.message).toContain('name:');
  });

  it('names an invalid path or query parameter', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/chat-rooms/abc/messages?limit=0',
      headers: bearer(await t.token()),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details[0]).toMatchObject({ in: 'params', field: 'id' });
  });

  it('refuses malformed JSON with 400 and an unknown body type with 415', async () => {
    const headers = bearer(await t.token());
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('REQUEST.INVALID');
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/characters',
      headers: { ...headers, 'content-type': 'application/xml' },
      payload: '<character/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });

  it('limits the token endpoint per user with 429 and Retry-After', async () => {
    const alice = bearer(await t.token());
    const bob = bearer(await t.token());
    const call = (headers: { authorization: string }) =>
      t.app.inject({ method: 'POST', url: '/api/token', headers, payload: { room_name: 'x' } });
    for (let i = 0; i < 3; i += 1) expect((await call(alice)).statusCode).toBe(403);
    const limited = await call(alice);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('REQUEST.RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another user on the same address is counted separately.
    expect((await call(bob)).statusCode).toBe(403);
  });

  it('limits the chat endpoint per user too', async () => {
    const alice = bearer(await t.token());
    const call = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/chat',
        headers: alice,
        payload: { message: 'hi' },
      });
    for (let i = 0; i < 3; i += 1) expect((await call()).statusCode).toBe(400);
    const limited = await call();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });
});

describe('service endpoints', () => {
  it('reports health and readiness', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('serves OpenAPI 3 listing the API, and the docs page', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of ['/api/token', '/api/chat', '/api/characters', '/health', '/ready']) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
    expect(spec.paths['/api/token'].post.security).toEqual([{ bearerAuth: [] }]);
    const docs = await t.app.inject({ url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const preflight = (origin: string) =>
      t.app.inject({
        method: 'OPTIONS',
        url: '/api/chat',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://admin.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example');
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes a sane request id and makes one up otherwise', async () => {
    const given = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id\n' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

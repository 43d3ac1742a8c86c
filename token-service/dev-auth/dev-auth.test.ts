import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getProfile } from '../../db/queries/profiles.js';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';
import { openLocalIssuer } from '../auth/local-issuer.js';
import { serverBaseUrl } from '../auth-setup.js';

describe('embedded issuer on loopback', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embeddedAuth: {} });
  });
  afterAll(() => t.close());

  it('issues a dev session whose token the API accepts, creating the profile', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      payload: { display_name: 'Lin' },
    });
    expect(response.statusCode).toBe(200);
    const session = response.json();
    expect(session).toMatchObject({ token_type: 'bearer', user: { display_name: 'Lin' } });
    const rooms = await t.app.inject({
      url: '/api/chat-rooms',
      headers: bearer(session.access_token),
    });
    expect(rooms.statusCode).toBe(200);
    expect((await getProfile(t.db, session.user.id))?.displayName).toBe('Lin');
  });

  it('keeps the user when the page sends its id back', async () => {
    const first = (await t.app.inject({ method: 'POST', url: '/auth/dev/session' })).json();
    const again = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      payload: { user_id: first.user.id },
    });
    expect(again.json().user.id).toBe(first.user.id);
  });

  it('publishes the key set its tokens verify against', async () => {
    const session = (await t.app.inject({ method: 'POST', url: '/auth/dev/session' })).json();
    const jwks = await t.app.inject({ url: '/auth/v1/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    const keys = jwks.json();
    expect(JSON.stringify(keys)).not.toContain('"d"');
    const { payload } = await jwtVerify(session.access_token, createLocalJWKSet(keys));
    expect(payload.sub).toBe(session.user.id);
  });

  it('refuses a NUL in the display name, naming the field', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      payload: { display_name: 'Li\u0000n' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details).toContainEqual(
      expect.objectContaining({ in: 'body', field: 'display_name' }),
    );
  });

  it('serves a token whose display name carries control characters (issued before the check)', async () => {
    const issuer = await openLocalIssuer({
      dataDir: t.config.dataDir,
      issuerBaseUrl: serverBaseUrl(t.config),
      sessionTtlMs: 60_000,
    });
    const { accessToken } = await issuer.issueAccessToken({
      id: randomUUID(),
      displayName: 'Li\u0000n\u001b',
    });
    const rooms = await t.app.inject({ url: '/api/chat-rooms', headers: bearer(accessToken) });
    expect(rooms.statusCode, rooms.body).toBe(200);
  });

  it('validates the session request', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      payload: { user_id: 'not-a-uuid' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details[0].field).toBe('user_id');
  });
});

describe('embedded issuer behind a proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embeddedAuth: {} });
  });
  afterAll(() => t.close());

  it.each([
    ['x-forwarded-for', '203.0.113.5'],
    ['forwarded', 'for=203.0.113.5'],
    ['x-real-ip', '203.0.113.5'],
  ])('refuses a request a loopback proxy forwarded (%s)', async (header, value) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      headers: { [header]: value },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('AUTH.DEV_SESSIONS_DISABLED');
  });

  it('refuses a caller that is not on loopback', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      remoteAddress: '203.0.113.5',
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('embedded issuer published at a public URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      embeddedAuth: {},
      env: { PUBLIC_URL: 'https://parley.example.com' },
    });
  });
  afterAll(() => t.close());

  it('refuses dev sessions even from loopback unless the operator opts in', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/auth/dev/session' });
    expect(response.statusCode).toBe(403);
    const config = await t.app.inject({ url: '/api/client-config' });
    expect(config.json().dev_sessions).toBe(false);
  });
});

describe('embedded issuer with ALLOW_DEV_SESSIONS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embeddedAuth: { host: '0.0.0.0', allowDevSessions: true } });
  });
  afterAll(() => t.close());

  it('issues dev sessions to forwarded and remote callers', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth/dev/session',
      remoteAddress: '203.0.113.5',
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('embedded issuer on a public address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embeddedAuth: { host: '0.0.0.0' } });
  });
  afterAll(() => t.close());

  it('refuses dev sessions unless the operator opts in', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/auth/dev/session' });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('AUTH.DEV_SESSIONS_DISABLED');
  });
});

describe('with Supabase configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('refuses dev sessions and serves no key set of its own', async () => {
    const session = await t.app.inject({ method: 'POST', url: '/auth/dev/session' });
    expect(session.statusCode).toBe(403);
    expect(session.json().error.code).toBe('AUTH.DEV_SESSIONS_DISABLED');
    const jwks = await t.app.inject({ url: '/auth/v1/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(404);
    expect(jwks.json().error.code).toBe('ROUTE.NOT_FOUND');
  });
});

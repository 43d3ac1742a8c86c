import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userProfiles } from '../../db/schema.js';
import { generateSigningKey } from '../supabase/fake-supabase.js';
import { startTestApp, type TestApp } from './test-app.js';

/**
 * Every way a token can be wrong, presented to a protected route over HTTP: each is a 401 in
 * the JSON error shape, and none of them creates a profile.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function unsigned(header: object, claims: object): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `${part(header)}.${part(claims)}.`;
}

const now = () => Math.floor(Date.now() / 1000);

/** name -> the Authorization header value to send. */
async function forgeries(): Promise<[string, string][]> {
  const s = t.supabase;
  const forger = await generateSigningKey('ES256');
  const valid = await s.signAccessToken();
  const [header = '', payload = '', signature = ''] = valid.split('.');
  const tamperedClaims = base64url.encode(
    JSON.stringify({ ...s.claims(), sub: crypto.randomUUID() }),
  );
  const tokens: [string, string][] = [
    ['expired', await s.signAccessToken({ expiresInSec: -120 })],
    ['not yet valid', await s.signAccessToken({ nbf: now() + 600 })],
    [
      'issued far in the future and not yet valid',
      await s.signAccessToken({ iat: now() + 600, nbf: now() + 600 }),
    ],
    ['wrong key, real kid', await s.signAccessToken({ privateKey: forger.privateKey })],
    [
      'wrong key, its own kid',
      await s.signAccessToken({ privateKey: forger.privateKey, kid: forger.kid }),
    ],
    [
      'forger key embedded in the header',
      await s.signAccessToken({
        privateKey: forger.privateKey,
        kid: forger.kid,
        header: { jwk: forger.publicJwk },
      }),
    ],
    ['wrong issuer', await s.signAccessToken({ iss: 'https://evil.example.com/auth/v1' })],
    ['wrong audience', await s.signAccessToken({ aud: 'anon' })],
    ['no audience', await s.signAccessToken({ without: ['aud'] })],
    ['no subject', await s.signAccessToken({ without: ['sub'] })],
    ['no expiry', await s.signAccessToken({ without: ['exp'] })],
    ['alg none', unsigned({ alg: 'none', typ: 'JWT' }, s.claims())],
    ['alg none, empty signature kept', `${unsigned({ alg: 'none' }, s.claims())}`],
    [
      'HS256 signed with the public key (algorithm confusion)',
      await s.signLegacyHs256(await s.publicKeyPem('ES256')),
    ],
    [
      'HS256 with the project secret where only JWKS keys are configured',
      await s.signLegacyHs256(),
    ],
    ['anon key', await s.anonKey()],
    ['service role key', await s.serviceRoleKey()],
    ['tampered claims, original signature', `${header}.${tamperedClaims}.${signature}`],
    ['truncated signature', valid.slice(0, -10)],
    ['signature removed', `${header}.${payload}.`],
    ['two segments', `${header}.${payload}`],
    ['garbage', 'this-is-not-a-jwt'],
    ['garbage with dots', 'a.b.c'],
    ['huge', 'a'.repeat(20_000)],
  ];
  return [
    ...tokens.map(([name, token]): [string, string] => [name, `Bearer ${token}`]),
    ['wrong scheme', `Basic ${valid}`],
    ['token without scheme', valid],
    ['empty bearer', 'Bearer '],
  ];
}

describe('forged and broken tokens', () => {
  it('answers each with 401 in the JSON error shape and creates no profile', async () => {
    const profilesBefore = (await t.db.select().from(userProfiles)).length;
    const cases = await forgeries();
    for (const [name, authorization] of cases) {
      const response = await t.app.inject({
        url: '/api/characters',
        headers: { authorization },
      });
      expect(response.statusCode, name).toBe(401);
      const { error } = response.json();
      expect(['AUTH.INVALID', 'AUTH.MISSING'], name).toContain(error.code);
      expect(response.headers['www-authenticate'], name).toBe('Bearer');
      expect(response.body, name).not.toContain(authorization.slice(7, 60) || '\u0000');
    }
    expect((await t.db.select().from(userProfiles)).length).toBe(profilesBefore);
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it('accepts the genuine article, so the refusals above are about the tokens', async () => {
    const response = await t.app.inject({
      url: '/api/characters',
      headers: { authorization: `Bearer ${await t.supabase.signAccessToken({ alg: 'RS256' })}` },
    });
    expect(response.statusCode).toBe(200);
  });

  it('says "expired" for an expired token, so a client knows to refresh', async () => {
    const response = await t.app.inject({
      url: '/api/characters',
      headers: {
        authorization: `Bearer ${await t.supabase.signAccessToken({ expiresInSec: -60 })}`,
      },
    });
    expect(response.json().error).toMatchObject({
      code: 'AUTH.INVALID',
      details: { reason: 'expired' },
    });
  });

  it('reports a key set it cannot reach as 503, not as a bad token', async () => {
    const fresh = await startTestApp();
    try {
      fresh.supabase.setJwksStatus(503);
      const response = await fresh.app.inject({
        url: '/api/characters',
        headers: { authorization: `Bearer ${await fresh.token()}` },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('AUTH.UNAVAILABLE');
    } finally {
      await fresh.close();
    }
  });
});

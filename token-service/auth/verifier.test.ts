import { randomUUID } from 'node:crypto';
import { base64url, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { AppError } from '../../core/errors.js';
import {
  type FakeSupabase,
  generateSigningKey,
  startFakeSupabase,
} from '../../tests/supabase/fake-supabase.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  supabaseVerifierOptions,
} from './verifier.js';

let supabase: FakeSupabase;
/** Asymmetric keys only: the setup Supabase recommends. */
let jwksOnly: AccessTokenVerifier;
/** Asymmetric keys plus the legacy HS256 secret. */
let withSecret: AccessTokenVerifier;

beforeAll(async () => {
  supabase = await startFakeSupabase();
  const auth = { supabaseUrl: supabase.url, jwksCacheMs: 600_000 };
  jwksOnly = createAccessTokenVerifier(supabaseVerifierOptions(auth));
  withSecret = createAccessTokenVerifier(
    supabaseVerifierOptions({ ...auth, supabaseJwtSecret: supabase.jwtSecret }),
  );
});

afterAll(() => supabase.close());

async function rejection(verifier: AccessTokenVerifier, token: string): Promise<AppError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

function unsigned(header: object, claims: object): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `${part(header)}.${part(claims)}.`;
}

describe('valid tokens', () => {
  it('accepts an ES256 token and maps Supabase claims to the user', async () => {
    const sub = randomUUID();
    const token = await supabase.signAccessToken({
      sub,
      session_id: 'session-1',
      user_metadata: { full_name: '  Ada Lovelace ' },
    });
    await expect(jwksOnly.verify(token)).resolves.toEqual({
      id: sub,
      email: 'ada@example.com',
      role: 'authenticated',
      isAnonymous: false,
      sessionId: 'session-1',
      displayName: 'Ada Lovelace',
    });
  });

  it('accepts an RS256 token', async () => {
    const sub = randomUUID();
    const token = await supabase.signAccessToken({ alg: 'RS256', sub });
    await expect(jwksOnly.verify(token)).resolves.toMatchObject({ id: sub });
  });

  it('accepts a legacy HS256 token when the secret is configured', async () => {
    const sub = randomUUID();
    const token = await supabase.signLegacyHs256(supabase.jwtSecret, { sub });
    await expect(withSecret.verify(token)).resolves.toMatchObject({ id: sub, isAnonymous: false });
  });

  it('accepts asymmetric tokens when the legacy secret is configured too', async () => {
    const token = await supabase.signAccessToken({ alg: 'RS256' });
    await expect(withSecret.verify(token)).resolves.toMatchObject({ role: 'authenticated' });
  });

  it('accepts an anonymous sign-in by default and marks it', async () => {
    const token = await supabase.signAccessToken({ is_anonymous: true });
    const user = await jwksOnly.verify(token);
    expect(user.isAnonymous).toBe(true);
    expect(user.email).toBeUndefined();
  });

  it('lower-cases the user id', async () => {
    const sub = randomUUID();
    const token = await supabase.signAccessToken({ sub: sub.toUpperCase() });
    await expect(jwksOnly.verify(token)).resolves.toMatchObject({ id: sub });
  });
});

/** Forged or unusable tokens: each must fail with AUTH.INVALID on both verifiers. */
const forgeries: [string, () => Promise<string>][] = [
  ['expired', () => supabase.signAccessToken({ expiresInSec: -60 })],
  [
    'issued an hour in the future (iat)',
    () => supabase.signAccessToken({ iat: Math.floor(Date.now() / 1000) + 3600 }),
  ],
  [
    'a legacy HS256 token issued an hour in the future (iat)',
    () => supabase.signLegacyHs256(undefined, { iat: Math.floor(Date.now() / 1000) + 3600 }),
  ],
  [
    'not yet valid (nbf)',
    () => supabase.signAccessToken({ nbf: Math.floor(Date.now() / 1000) + 60 }),
  ],
  [
    'signed by a key not in the JWKS, claiming a published kid',
    async () => {
      const forger = await generateSigningKey('ES256');
      return supabase.signAccessToken({ privateKey: forger.privateKey });
    },
  ],
  [
    'signed by a key not in the JWKS, with its own kid',
    async () => {
      const forger = await generateSigningKey('RS256');
      return supabase.signAccessToken({
        alg: 'RS256',
        privateKey: forger.privateKey,
        kid: forger.kid,
      });
    },
  ],
  [
    'carrying its own public key in the header (embedded jwk)',
    async () => {
      const forger = await generateSigningKey('ES256');
      return supabase.signAccessToken({
        privateKey: forger.privateKey,
        kid: forger.kid,
        header: { jwk: await exportJWK(forger.publicKey) },
      });
    },
  ],
  ['wrong issuer', () => supabase.signAccessToken({ iss: 'https://evil.example.com/auth/v1' })],
  ['issuer without /auth/v1', () => supabase.signAccessToken({ iss: supabase.url })],
  ['wrong audience', () => supabase.signAccessToken({ aud: 'service' })],
  ['no audience', () => supabase.signAccessToken({ without: ['aud'] })],
  ['no expiry', () => supabase.signAccessToken({ without: ['exp'] })],
  ['alg none', async () => unsigned({ alg: 'none', typ: 'JWT' }, supabase.claims())],
  ['alg None (case variant)', async () => unsigned({ alg: 'None', typ: 'JWT' }, supabase.claims())],
  [
    'HS256 signed with the RS256 public key PEM',
    async () => supabase.signLegacyHs256(await supabase.publicKeyPem('RS256')),
  ],
  [
    'HS256 signed with the RS256 public JWK bytes',
    async () => supabase.signLegacyHs256(JSON.stringify(supabase.currentKey('RS256').publicJwk)),
  ],
  [
    'HS256 signed with the ES256 public key PEM, with its kid',
    async () =>
      supabase.signLegacyHs256(await supabase.publicKeyPem('ES256'), {
        header: { kid: supabase.currentKey('ES256').kid },
      }),
  ],
  ['HS256 signed with another secret', () => supabase.signLegacyHs256('x'.repeat(40))],
  ['truncated signature', async () => (await supabase.signAccessToken()).slice(0, -12)],
  [
    'signature stripped',
    async () => {
      const [header, payload] = (await supabase.signAccessToken()).split('.');
      return `${header}.${payload}.`;
    },
  ],
  [
    'payload swapped under a valid signature',
    async () => {
      const [header, , signature] = (await supabase.signAccessToken()).split('.');
      const payload = base64url.encode(JSON.stringify(supabase.claims({ role: 'service_role' })));
      return `${header}.${payload}.${signature}`;
    },
  ],
  ['garbage', async () => 'not-a-jwt'],
  ['three garbage parts', async () => 'a.b.c'],
  ['empty string', async () => ''],
  ['oversized', async () => `${await supabase.signAccessToken()}${'A'.repeat(20_000)}`],
  ['the anon key', () => supabase.anonKey()],
  ['the service-role key', () => supabase.serviceRoleKey()],
  ['missing sub', () => supabase.signAccessToken({ without: ['sub'] })],
  ['sub that is not a uuid', () => supabase.signAccessToken({ sub: 'admin' })],
  ['role anon with a user sub', () => supabase.signAccessToken({ role: 'anon' })],
  ['role service_role with a user sub', () => supabase.signAccessToken({ role: 'service_role' })],
  [
    'legacy-signed anon role with full user claims',
    () => supabase.signLegacyHs256(supabase.jwtSecret, { role: 'anon' }),
  ],
];

describe.each([
  ['JWKS only', () => jwksOnly],
  ['JWKS + legacy secret', () => withSecret],
])('forged tokens (%s)', (_name, verifier) => {
  it.each(forgeries)('rejects: %s', async (_case, forge) => {
    const token = await forge();
    const error = await rejection(verifier(), token);
    expect(error.code).toBe('AUTH.INVALID');
    // Nothing a client or a log sees may carry the token.
    const visible = JSON.stringify({ message: error.message, details: error.details });
    if (token.length > 0) expect(visible).not.toContain(token);
  });
});

describe('other rejections', () => {
  it('rejects a correctly signed HS256 token when only JWKS keys are configured', async () => {
    const token = await supabase.signLegacyHs256(supabase.jwtSecret);
    await expect(withSecret.verify(token)).resolves.toMatchObject({ role: 'authenticated' });
    const error = await rejection(jwksOnly, token);
    expect(error.code).toBe('AUTH.INVALID');
    expect(error.details).toEqual({ reason: 'algorithm' });
  });

  it('says "expired" for an expired token, so a client knows to refresh', async () => {
    const error = await rejection(jwksOnly, await supabase.signAccessToken({ expiresInSec: -60 }));
    expect(error.message).toBe('Access token has expired');
    expect(error.details).toEqual({ reason: 'expired' });
  });

  it('tolerates 5 s of clock skew on exp and nbf, not more', async () => {
    // Time stands still here, so the margins below do not depend on how fast the test runs.
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const now = Math.floor(Date.now() / 1000);
    const skewed = await supabase.signAccessToken({ exp: now - 2, nbf: now + 2 });
    await expect(jwksOnly.verify(skewed)).resolves.toMatchObject({ role: 'authenticated' });
    const late = await supabase.signAccessToken({ exp: now - 30 });
    expect((await rejection(jwksOnly, late)).code).toBe('AUTH.INVALID');
  });

  it('rejects anonymous sign-ins when the operator turns them off', async () => {
    const strict = createAccessTokenVerifier({
      ...supabaseVerifierOptions({ supabaseUrl: supabase.url, jwksCacheMs: 600_000 }),
      allowAnonymousUsers: false,
    });
    const anonymous = await supabase.signAccessToken({ is_anonymous: true });
    const error = await rejection(strict, anonymous);
    expect(error.code).toBe('AUTH.INVALID');
    expect(error.details).toEqual({ reason: 'anonymous' });
    await expect(strict.verify(await supabase.signAccessToken())).resolves.toMatchObject({
      isAnonymous: false,
    });
  });

  it('refuses a legacy secret too short to resist guessing', () => {
    expect(() =>
      createAccessTokenVerifier(
        supabaseVerifierOptions({
          supabaseUrl: supabase.url,
          jwksCacheMs: 600_000,
          supabaseJwtSecret: 'short-secret',
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'CONFIG.INVALID' }));
  });
});

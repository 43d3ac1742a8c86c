import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type FakeSupabase,
  generateSigningKey,
  startFakeSupabase,
} from '../../tests/supabase/fake-supabase.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  MAX_JWKS_CACHE_MS,
} from './verifier.js';

const COOLDOWN_MS = 30_000;
const CACHE_MS = 10 * 60_000;

let supabase: FakeSupabase;
let verifier: AccessTokenVerifier;

/**
 * jose decides "cached long enough" and "cooling down" from `Date.now()`. Only `Date` is faked
 * (timers, sockets and fetch stay real), so time moves exactly when a test says so.
 */
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  supabase = await startFakeSupabase();
  verifier = verifierFor(CACHE_MS);
});

afterEach(async () => {
  vi.useRealTimers();
  await supabase.close();
});

function verifierFor(cacheMaxAgeMs: number): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: supabase.issuer,
    keys: {
      jwksUrl: new URL(`${supabase.url}/auth/v1/.well-known/jwks.json`),
      cacheMaxAgeMs,
      cooldownMs: COOLDOWN_MS,
    },
  });
}

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

/** A token signed by a key the project never published, under a kid nobody knows. */
async function unknownKidToken(): Promise<string> {
  const forger = await generateSigningKey('ES256');
  return supabase.signAccessToken({ privateKey: forger.privateKey, kid: forger.kid });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

describe('JWKS fetching', () => {
  it('fetches the key set once and serves both algorithms from the cache', async () => {
    await verifier.verify(await supabase.signAccessToken({ alg: 'ES256' }));
    await verifier.verify(await supabase.signAccessToken({ alg: 'RS256' }));
    await verifier.verify(await supabase.signAccessToken({ alg: 'ES256' }));
    expect(supabase.jwksFetches).toBe(1);
  });

  it('re-fetches exactly once for a rotated-in key, then accepts it', async () => {
    await verifier.verify(await supabase.signAccessToken());
    expect(supabase.jwksFetches).toBe(1);
    advance(COOLDOWN_MS + 1);
    const rotated = await supabase.rotateKey('ES256');

    const token = await supabase.signAccessToken();
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: 'authenticated' });
    expect(supabase.jwksFetches).toBe(2);
    await verifier.verify(await supabase.signAccessToken({ kid: rotated.kid }));
    expect(supabase.jwksFetches).toBe(2);
  });

  it('does not re-fetch during the cooldown, however many unknown kids arrive', async () => {
    await verifier.verify(await supabase.signAccessToken());
    advance(COOLDOWN_MS + 1);
    // The first unknown kid after the cooldown may re-fetch once...
    expect(await codeOf(verifier.verify(await unknownKidToken()))).toBe('AUTH.INVALID');
    expect(supabase.jwksFetches).toBe(2);
    // ...then nothing an attacker sends makes us fetch again until the cooldown passes.
    for (let i = 0; i < 20; i += 1) {
      expect(await codeOf(verifier.verify(await unknownKidToken()))).toBe('AUTH.INVALID');
    }
    const burst = await Promise.all(
      Array.from({ length: 20 }, async () => codeOf(verifier.verify(await unknownKidToken()))),
    );
    expect(burst).toEqual(Array(20).fill('AUTH.INVALID'));
    expect(supabase.jwksFetches).toBe(2);
  });

  it('folds a burst of unknown kids after the cooldown into one fetch', async () => {
    await verifier.verify(await supabase.signAccessToken());
    advance(COOLDOWN_MS + 1);
    const tokens = await Promise.all(Array.from({ length: 10 }, unknownKidToken));
    const codes = await Promise.all(tokens.map((token) => codeOf(verifier.verify(token))));
    expect(codes).toEqual(Array(10).fill('AUTH.INVALID'));
    expect(supabase.jwksFetches).toBe(2);
  });

  it('rejects a key rotated in during the cooldown until the cooldown ends', async () => {
    await verifier.verify(await supabase.signAccessToken());
    await supabase.rotateKey('RS256');
    const token = await supabase.signAccessToken({ alg: 'RS256' });
    expect(await codeOf(verifier.verify(token))).toBe('AUTH.INVALID');
    expect(supabase.jwksFetches).toBe(1);
    advance(COOLDOWN_MS + 1);
    expect(await codeOf(verifier.verify(token))).toBe('ok');
    expect(supabase.jwksFetches).toBe(2);
  });

  it('stops trusting a revoked key once the cache expires', async () => {
    const token = await supabase.signAccessToken({ expiresInSec: (2 * CACHE_MS) / 1000 });
    await verifier.verify(token);
    supabase.revokeKey(supabase.currentKey('ES256').kid);
    advance(CACHE_MS - 1_000);
    expect(await codeOf(verifier.verify(token))).toBe('ok');
    advance(2_000);
    expect(await codeOf(verifier.verify(token))).toBe('AUTH.INVALID');
    expect(supabase.jwksFetches).toBe(2);
  });

  it('never caches longer than 20 minutes, whatever is configured', async () => {
    const longCache = verifierFor(60 * 60_000);
    const token = await supabase.signAccessToken({ expiresInSec: 7_200 });
    await longCache.verify(token);
    advance(MAX_JWKS_CACHE_MS - 1_000);
    await longCache.verify(token);
    expect(supabase.jwksFetches).toBe(1);
    advance(2_000);
    await longCache.verify(token);
    expect(supabase.jwksFetches).toBe(2);
  });

  it('reports an unreachable key set as AUTH.UNAVAILABLE, not as a bad token', async () => {
    supabase.setJwksStatus(503);
    const token = await supabase.signAccessToken();
    expect(await codeOf(verifier.verify(token))).toBe('AUTH.UNAVAILABLE');
    supabase.setJwksStatus(200);
    expect(await codeOf(verifier.verify(token))).toBe('ok');
  });
});

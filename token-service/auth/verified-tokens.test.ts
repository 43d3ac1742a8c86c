import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeSupabase, startFakeSupabase } from '../../tests/supabase/fake-supabase.js';
import {
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
} from './verifier.js';

const JWKS_CACHE_MS = 10 * 60_000;

let supabase: FakeSupabase;

/** Only `Date` is faked (jose and the cache read it); sockets and fetch stay real. */
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  supabase = await startFakeSupabase();
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  await supabase.close();
});

function verifierWith(options: Partial<AccessTokenVerifierOptions> = {}): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: supabase.issuer,
    keys: {
      jwksUrl: new URL(`${supabase.url}/auth/v1/.well-known/jwks.json`),
      cacheMaxAgeMs: JWKS_CACHE_MS,
    },
    clockToleranceSec: 0,
    ...options,
  });
}

/** Counts signature checks: a remembered token needs none. */
function countSignatureChecks(): () => number {
  const spy = vi.spyOn(crypto.subtle, 'verify');
  return () => spy.mock.calls.length;
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: { code?: string; details?: { reason?: string } }) =>
      `${error.code}:${error.details?.reason}`,
  );
}

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

describe('remembered verifications', () => {
  it('checks a token once and answers the same user from memory after that', async () => {
    const verifier = verifierWith();
    const sub = randomUUID();
    const token = await supabase.signAccessToken({ sub });
    const checks = countSignatureChecks();
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(checks()).toBe(1);
    expect(second).toEqual(first);
    expect(second.id).toBe(sub);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it('refuses a remembered token once it is past its exp', async () => {
    const verifier = verifierWith({ verifiedCacheMs: 60 * 60_000 });
    const token = await supabase.signAccessToken({ expiresInSec: 30 });
    expect(await outcome(verifier.verify(token))).toBe('ok');
    advance(29_000);
    expect(await outcome(verifier.verify(token))).toBe('ok');
    advance(2_000);
    expect(await outcome(verifier.verify(token))).toBe('AUTH.INVALID:expired');
  });

  it('checks the signature again once the cache time has passed', async () => {
    const verifier = verifierWith({ verifiedCacheMs: 60_000 });
    const token = await supabase.signAccessToken();
    const checks = countSignatureChecks();
    await verifier.verify(token);
    advance(59_000);
    await verifier.verify(token);
    expect(checks()).toBe(1);
    advance(2_000);
    await verifier.verify(token);
    expect(checks()).toBe(2);
  });

  it('never lets a forged token ride on a remembered one', async () => {
    const verifier = verifierWith();
    const sub = randomUUID();
    const genuine = await supabase.signAccessToken({ sub });
    await verifier.verify(genuine);
    const [header, payload, signature = ''] = genuine.split('.');
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const forged = `${header}.${payload}.${flipped}`;
    const checks = countSignatureChecks();
    expect(await outcome(verifier.verify(forged))).toBe('AUTH.INVALID:signature');
    expect(await outcome(verifier.verify(forged))).toBe('AUTH.INVALID:signature');
    expect(checks()).toBe(2);
  });

  it('drops a remembered token when its key is revoked and the key set is fetched again', async () => {
    const verifier = verifierWith({ verifiedCacheMs: 60 * 60_000 });
    const token = await supabase.signAccessToken({ expiresInSec: 7_200 });
    await verifier.verify(token);
    supabase.revokeKey(supabase.currentKey('ES256').kid);
    advance(JWKS_CACHE_MS - 1_000);
    expect(await outcome(verifier.verify(token))).toBe('ok');
    advance(2_000);
    expect(await outcome(verifier.verify(token))).toBe('AUTH.INVALID:unknown_key');
  });

  it('checks every time when the cache is off', async () => {
    const verifier = verifierWith({ verifiedCacheMs: 0 });
    const token = await supabase.signAccessToken();
    const checks = countSignatureChecks();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(checks()).toBe(2);
  });

  it('remembers legacy HS256 tokens under the secret, and only while it is configured', async () => {
    const verifier = verifierWith({ legacySecret: supabase.jwtSecret });
    const token = await supabase.signLegacyHs256(supabase.jwtSecret);
    const checks = countSignatureChecks();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(checks()).toBe(1);
    expect(await outcome(verifierWith().verify(token))).toBe('AUTH.INVALID:algorithm');
  });
});

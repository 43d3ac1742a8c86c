import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSupabase, startFakeSupabase } from './fake-supabase.js';

let supabase: FakeSupabase;

beforeAll(async () => {
  supabase = await startFakeSupabase();
});

afterAll(() => supabase.close());

describe('fake Supabase', () => {
  it('signs user tokens with the claim set Supabase issues', async () => {
    const token = await supabase.signAccessToken({ alg: 'RS256' });
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      kid: supabase.currentKey('RS256').kid,
      typ: 'JWT',
    });
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(
      [
        'iss',
        'aud',
        'sub',
        'email',
        'phone',
        'role',
        'aal',
        'amr',
        'session_id',
        'is_anonymous',
        'iat',
        'exp',
        'app_metadata',
        'user_metadata',
      ].sort(),
    );
    expect(claims).toMatchObject({
      iss: `${supabase.url}/auth/v1`,
      aud: 'authenticated',
      role: 'authenticated',
    });
  });

  it('shapes the anon key like Supabase: HS256, role anon, no sub', async () => {
    const key = await supabase.anonKey();
    expect(decodeProtectedHeader(key)).toMatchObject({ alg: 'HS256' });
    const claims = decodeJwt(key);
    expect(claims).toMatchObject({ iss: 'supabase', role: 'anon' });
    expect(claims).not.toHaveProperty('sub');
    expect(claims).not.toHaveProperty('aud');
  });

  it('publishes ES256 and RS256 public keys, counts fetches, and rotates', async () => {
    const fetchJwks = async () => {
      const response = await fetch(`${supabase.url}/auth/v1/.well-known/jwks.json`);
      return (await response.json()) as { keys: Record<string, unknown>[] };
    };
    const before = supabase.jwksFetches;
    const { keys } = await fetchJwks();
    expect(keys.map((key) => [key.alg, key.kty, key.use])).toEqual([
      ['ES256', 'EC', 'sig'],
      ['RS256', 'RSA', 'sig'],
    ]);
    expect(keys.some((key) => 'd' in key)).toBe(false);

    const rotated = await supabase.rotateKey('ES256');
    expect((await fetchJwks()).keys.map((key) => key.kid)).toContain(rotated.kid);
    expect(supabase.jwksFetches).toBe(before + 2);
    expect(decodeProtectedHeader(await supabase.signAccessToken()).kid).toBe(rotated.kid);
  });

  it('answers 404 elsewhere', async () => {
    const response = await fetch(`${supabase.url}/auth/v1/user`);
    expect(response.status).toBe(404);
  });
});

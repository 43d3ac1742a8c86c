import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDevSession, devSessionRequestSchema } from './dev-session.js';
import {
  devSessionsAllowed,
  type LocalIssuer,
  localVerifierOptions,
  openLocalIssuer,
} from './local-issuer.js';
import { signingKeyPath } from './signing-key-file.js';
import { createAccessTokenVerifier } from './verifier.js';

const BASE_URL = 'http://127.0.0.1:8000';
const TTL_MS = 15 * 60_000;
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-auth-'));
});

afterEach(() => rm(dataDir, { recursive: true, force: true }));

function open(dir = dataDir): Promise<LocalIssuer> {
  return openLocalIssuer({ dataDir: dir, issuerBaseUrl: BASE_URL, sessionTtlMs: TTL_MS });
}

function verifierFor(issuer: LocalIssuer) {
  return createAccessTokenVerifier(localVerifierOptions(issuer));
}

describe('local issuer', () => {
  it('issues Supabase-shaped tokens that the shared verifier accepts', async () => {
    const issuer = await open();
    const id = randomUUID();
    const { accessToken, expiresAt, sessionId } = await issuer.issueAccessToken({
      id,
      displayName: 'Grace',
    });
    await expect(verifierFor(issuer).verify(accessToken)).resolves.toEqual({
      id,
      role: 'authenticated',
      isAnonymous: false,
      sessionId,
      displayName: 'Grace',
    });
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({
      iss: `${BASE_URL}/auth/v1`,
      aud: 'authenticated',
      exp: expiresAt,
      user_metadata: { display_name: 'Grace' },
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(TTL_MS / 1000);
  });

  it('publishes a public JWKS with kid, alg and use, and no private part', async () => {
    const { jwks } = await open();
    expect(jwks.keys).toHaveLength(1);
    const [key] = jwks.keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key?.kid).toEqual(expect.any(String));
    expect(key).not.toHaveProperty('d');
  });

  it('keeps its key in a 0600 file in a 0700 directory', async () => {
    await open();
    const path = signingKeyPath(dataDir);
    expect(path).toBe(join(dataDir, 'auth', 'signing-key.json'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
  });

  it('reuses the key on the next start, so earlier tokens stay valid', async () => {
    const first = await open();
    const { accessToken } = await first.issueAccessToken({ id: randomUUID() });
    const keyFile = await readFile(signingKeyPath(dataDir), 'utf8');

    const second = await open();
    expect(second.jwks).toEqual(first.jwks);
    await expect(verifierFor(second).verify(accessToken)).resolves.toMatchObject({
      role: 'authenticated',
    });
    expect(await readFile(signingKeyPath(dataDir), 'utf8')).toBe(keyFile);
  });

  it('ends with one key when two processes start on a fresh directory at once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    expect(a.jwks).toEqual(b.jwks);
  });

  it('does not accept tokens of another data directory (another key)', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'parley-auth-other-'));
    try {
      const other = await open(otherDir);
      const { accessToken } = await other.issueAccessToken({ id: randomUUID() });
      await expect(verifierFor(await open()).verify(accessToken)).rejects.toMatchObject({
        code: 'AUTH.INVALID',
      });
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('does not accept its tokens under another issuer URL', async () => {
    const issuer = await open();
    const { accessToken } = await issuer.issueAccessToken({ id: randomUUID() });
    const moved = await openLocalIssuer({
      dataDir,
      issuerBaseUrl: 'http://192.168.1.20:8000',
      sessionTtlMs: TTL_MS,
    });
    await expect(verifierFor(moved).verify(accessToken)).rejects.toMatchObject({
      code: 'AUTH.INVALID',
    });
  });

  it('tightens a key file that others can read', async () => {
    await open();
    const path = signingKeyPath(dataDir);
    await chmod(path, 0o644);
    await open();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt key file instead of silently replacing it', async () => {
    const path = signingKeyPath(dataDir);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '{"not":"a key"}', { mode: 0o600 });
    await expect(open()).rejects.toMatchObject({ code: 'CONFIG.INVALID' });
  });
});

describe('dev sessions', () => {
  it('makes a new uuid user, and keeps the id the page sends back', async () => {
    const issuer = await open();
    const verifier = verifierFor(issuer);
    const deps = { issuer, devSessionsEnabled: true };

    const first = await createDevSession(deps, devSessionRequestSchema.parse({}));
    expect(first.user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first).toMatchObject({ token_type: 'bearer', expires_in: TTL_MS / 1000 });

    const again = await createDevSession(
      deps,
      devSessionRequestSchema.parse({ user_id: first.user.id, display_name: ' Lin ' }),
    );
    expect(again.user).toEqual({ id: first.user.id, display_name: 'Lin' });
    await expect(verifier.verify(again.access_token)).resolves.toMatchObject({
      id: first.user.id,
      displayName: 'Lin',
    });
    const other = await createDevSession(deps, devSessionRequestSchema.parse({}));
    expect(other.user.id).not.toBe(first.user.id);
  });

  it('refuses when dev sessions are disabled', async () => {
    const deps = { issuer: await open(), devSessionsEnabled: false };
    await expect(createDevSession(deps, {})).rejects.toMatchObject({
      code: 'AUTH.DEV_SESSIONS_DISABLED',
    });
  });

  it('rejects a user_id that is not a uuid rather than quietly making a new user', () => {
    expect(devSessionRequestSchema.safeParse({ user_id: 'alice' }).success).toBe(false);
    expect(devSessionRequestSchema.safeParse({ display_name: '' }).success).toBe(false);
    expect(devSessionRequestSchema.safeParse({ role: 'service_role' }).success).toBe(false);
  });
});

describe('devSessionsAllowed', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['128.0.0.1', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['', false],
  ])('%s without opt-in: %s', (host, expected) => {
    expect(devSessionsAllowed(host, false)).toBe(expected);
  });

  it('allows any host when the operator opts in', () => {
    expect(devSessionsAllowed('0.0.0.0', true)).toBe(true);
  });
});

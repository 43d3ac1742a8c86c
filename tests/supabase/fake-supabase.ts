import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The asymmetric algorithms Supabase signs user tokens with. */
export type AsymmetricAlg = 'ES256' | 'RS256';

/** One key pair of the fake project; `publicJwk` is what the JWKS endpoint lists. */
export interface FakeSigningKey {
  kid: string;
  alg: AsymmetricAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** The claims of a Supabase (GoTrue) access token, as Supabase issues them. */
export interface SupabaseClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  email: string;
  phone: string;
  role: string;
  aal: 'aal1' | 'aal2';
  amr: { method: string; timestamp: number }[];
  session_id: string;
  is_anonymous: boolean;
  iat: number;
  exp: number;
  nbf: number;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
}

/** Claim overrides plus how to sign; every field is optional. */
export type AccessTokenOptions = Partial<SupabaseClaims> & {
  /** Which current key signs (default ES256). */
  alg?: AsymmetricAlg;
  /** The `kid` header; default the current key's. */
  kid?: string;
  /** Sign with this key instead of the project's (a forger's key). */
  privateKey?: CryptoKey;
  /** Lifetime from now; negative for an already expired token. Default 3600. */
  expiresInSec?: number;
  /** Claims to leave out entirely, e.g. `['sub']`. */
  without?: (keyof SupabaseClaims)[];
  /** Extra protected-header members, e.g. an embedded `jwk`. */
  header?: Record<string, unknown>;
};

/** A local stand-in for a Supabase project's auth server, signing tokens like Supabase does. */
export interface FakeSupabase {
  /** What an operator would put in `SUPABASE_URL`. */
  readonly url: string;
  /** `${url}/auth/v1`, the `iss` of every user token. */
  readonly issuer: string;
  /** The legacy JWT secret (HS256), as shown in Supabase's dashboard. */
  readonly jwtSecret: string;
  /** How many times the JWKS endpoint was requested. */
  readonly jwksFetches: number;
  /** The key currently signing for `alg`. */
  currentKey(alg: AsymmetricAlg): FakeSigningKey;
  /** The user-token claims Supabase would issue, with overrides applied. */
  claims(options?: AccessTokenOptions): Record<string, unknown>;
  signAccessToken(options?: AccessTokenOptions): Promise<string>;
  /** A legacy HS256 user token, signed with `secret` (a string's UTF-8 bytes, or raw bytes). */
  signLegacyHs256(secret?: string | Uint8Array, options?: AccessTokenOptions): Promise<string>;
  /** The project's public anon key: HS256, `role: anon`, no `sub`, `iss: supabase`. */
  anonKey(): Promise<string>;
  /** The project's service-role key: like the anon key with `role: service_role`. */
  serviceRoleKey(): Promise<string>;
  /** The current `alg` key's public key as SPKI PEM (what a forger would use as HMAC secret). */
  publicKeyPem(alg: AsymmetricAlg): Promise<string>;
  /** Publishes a new key and signs with it from now on; older keys stay published. */
  rotateKey(alg: AsymmetricAlg): Promise<FakeSigningKey>;
  /** Takes a key out of the published set. */
  revokeKey(kid: string): void;
  /** Makes the JWKS endpoint answer with this status (e.g. 503); `200` restores it. */
  setJwksStatus(status: number): void;
  close(): Promise<void>;
}

const JWKS_PATH = '/auth/v1/.well-known/jwks.json';
const PROJECT_REF = 'fakeprojectref';

/** A fresh key pair for `alg` with a random `kid`, as a test's own forger key too. */
export async function generateSigningKey(alg: AsymmetricAlg): Promise<FakeSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/** Starts the fake on 127.0.0.1, port 0. Close it in `afterAll`. */
export async function startFakeSupabase(): Promise<FakeSupabase> {
  const published: FakeSigningKey[] = [
    await generateSigningKey('ES256'),
    await generateSigningKey('RS256'),
  ];
  const current = new Map<AsymmetricAlg, FakeSigningKey>();
  for (const key of published) current.set(key.alg, key);
  const jwtSecret = randomBytes(30).toString('base64');
  let jwksFetches = 0;
  let jwksStatus = 200;

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== JWKS_PATH) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 404, msg: 'Not found' }));
      return;
    }
    jwksFetches += 1;
    if (jwksStatus !== 200) {
      response.writeHead(jwksStatus, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ msg: 'unavailable' }));
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=600',
    });
    response.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
  });
  const url = await listen(server);
  const issuer = `${url}/auth/v1`;

  const currentKey = (alg: AsymmetricAlg): FakeSigningKey => {
    const key = current.get(alg);
    if (key === undefined) throw new Error(`no current ${alg} key`);
    return key;
  };
  const claims = (options: AccessTokenOptions = {}) => userClaims(issuer, options);

  return {
    url,
    issuer,
    jwtSecret,
    get jwksFetches() {
      return jwksFetches;
    },
    currentKey,
    claims,
    async signAccessToken(options = {}) {
      const key = currentKey(options.alg ?? 'ES256');
      const header = { ...options.header, alg: key.alg, kid: options.kid ?? key.kid, typ: 'JWT' };
      return new SignJWT(claims(options))
        .setProtectedHeader(header)
        .sign(options.privateKey ?? key.privateKey);
    },
    signLegacyHs256(secret = jwtSecret, options = {}) {
      const header = { ...options.header, alg: 'HS256', typ: 'JWT' };
      return new SignJWT(claims(options)).setProtectedHeader(header).sign(secretBytes(secret));
    },
    anonKey: () => apiKey(jwtSecret, 'anon'),
    serviceRoleKey: () => apiKey(jwtSecret, 'service_role'),
    publicKeyPem: (alg) => exportSPKI(currentKey(alg).publicKey),
    async rotateKey(alg) {
      const key = await generateSigningKey(alg);
      published.push(key);
      current.set(alg, key);
      return key;
    },
    revokeKey(kid) {
      const index = published.findIndex((key) => key.kid === kid);
      if (index >= 0) published.splice(index, 1);
    },
    setJwksStatus(status) {
      jwksStatus = status;
    },
    close: () => closeServer(server),
  };
}

function userClaims(issuer: string, options: AccessTokenOptions): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const isAnonymous = options.is_anonymous ?? false;
  const base: Omit<SupabaseClaims, 'nbf'> = {
    iss: issuer,
    aud: 'authenticated',
    sub: randomUUID(),
    email: isAnonymous ? '' : 'ada@example.com',
    phone: '',
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: isAnonymous ? 'anonymous' : 'password', timestamp: now }],
    session_id: randomUUID(),
    is_anonymous: isAnonymous,
    iat: now,
    exp: now + (options.expiresInSec ?? 3600),
    app_metadata: isAnonymous ? {} : { provider: 'email', providers: ['email'] },
    user_metadata: {},
  };
  const { alg, kid, privateKey, expiresInSec, without, header, ...overrides } = options;
  const result: Record<string, unknown> = { ...base, ...overrides };
  for (const claim of without ?? []) delete result[claim];
  return result;
}

/** Supabase's anon/service keys: long-lived HS256 JWTs naming the project, not a user. */
function apiKey(secret: string, role: 'anon' | 'service_role'): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: 'supabase', ref: PROJECT_REF, role, iat, exp: iat + 10 * 365 * 86_400 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(secretBytes(secret));
}

function secretBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // fetch keeps connections alive; without this close() waits for them to time out.
    server.closeAllConnections();
  });
}

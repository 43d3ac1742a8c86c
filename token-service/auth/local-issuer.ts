import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { type JSONWebKeySet, SignJWT } from 'jose';
import { loadOrCreateSigningKey } from './signing-key-file.js';
import type { AccessTokenVerifierOptions } from './verifier.js';

/**
 * Parley's own token issuer, used when no Supabase project is configured. It signs
 * Supabase-shaped access tokens with an ES256 key kept in the data directory, so the one
 * verifier checks them exactly as it checks Supabase's.
 */
export interface LocalIssuer {
  /** The `iss` of every token: `${issuerBaseUrl}/auth/v1`. */
  readonly issuer: string;
  /** The public key set to serve at `/auth/v1/.well-known/jwks.json` (no private parts). */
  readonly jwks: JSONWebKeySet;
  readonly sessionTtlMs: number;
  /** Signs an access token for a local user. */
  issueAccessToken(user: LocalUser): Promise<IssuedToken>;
}

export interface LocalUser {
  /** A uuid. */
  id: string;
  displayName?: string;
}

export interface IssuedToken {
  accessToken: string;
  /** Seconds since the epoch, like `exp`. */
  expiresAt: number;
  /** Lifetime in seconds (`exp - iat`). */
  expiresIn: number;
  sessionId: string;
}

export interface LocalIssuerOptions {
  /** `Config.dataDir`; the key lives at `${dataDir}/auth/signing-key.json`. */
  dataDir: string;
  /**
   * The server's public base URL (e.g. `http://127.0.0.1:8000`). Tokens name it as issuer, so
   * changing it invalidates tokens already handed out; the key itself stays.
   */
  issuerBaseUrl: string;
  /** `Config.auth.devSessionTtlMs`. */
  sessionTtlMs: number;
}

/** Opens the issuer, creating its signing key on first start and reusing it afterwards. */
export async function openLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const key = await loadOrCreateSigningKey(options.dataDir);
  const issuer = `${options.issuerBaseUrl.replace(/\/+$/, '')}/auth/v1`;
  const ttlSec = Math.max(1, Math.ceil(options.sessionTtlMs / 1000));

  return {
    issuer,
    jwks: { keys: [key.publicJwk] },
    sessionTtlMs: options.sessionTtlMs,
    async issueAccessToken(user) {
      const now = Math.floor(Date.now() / 1000);
      const sessionId = randomUUID();
      const claims = {
        iss: issuer,
        aud: 'authenticated',
        sub: user.id,
        email: '',
        phone: '',
        role: 'authenticated',
        aal: 'aal1',
        // Not a Supabase method: says where the token came from to anyone reading it.
        amr: [{ method: 'parley_dev_session', timestamp: now }],
        session_id: sessionId,
        // The local user is the operator's own, not a throwaway Supabase anonymous user.
        is_anonymous: false,
        iat: now,
        exp: now + ttlSec,
        app_metadata: { provider: 'parley-dev' },
        user_metadata: user.displayName === undefined ? {} : { display_name: user.displayName },
      };
      const accessToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
      return { accessToken, expiresAt: claims.exp, expiresIn: ttlSec, sessionId };
    },
  };
}

/** Verifier options that accept exactly this issuer's tokens (the key set held in memory). */
export function localVerifierOptions(issuer: LocalIssuer): AccessTokenVerifierOptions {
  return { issuer: issuer.issuer, keys: { jwks: issuer.jwks } };
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Dev sessions hand a token to anyone who asks, so they are only safe where only this machine
 * can ask: a loopback listen host, and no public URL (a server published through a proxy is
 * reached from elsewhere even on loopback). Anywhere else the operator must opt in
 * (`ALLOW_DEV_SESSIONS`).
 */
export function devSessionsAllowed(
  host: string,
  allowDevSessions: boolean,
  publicUrl?: string,
): boolean {
  if (allowDevSessions) return true;
  if (publicUrl !== undefined && !isLoopbackHost(new URL(publicUrl).hostname)) return false;
  return isLoopbackHost(host);
}

/** Headers a proxy adds: a request carrying one came from elsewhere, whatever its peer. */
const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
];

/**
 * Whether a request comes straight from this machine: a loopback peer that forwards nobody.
 * Reads the socket, never `request.ip`, which a trusted proxy's headers could set.
 */
export function isDirectLoopbackCaller(request: IncomingMessage): boolean {
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined)) return false;
  return isLoopbackHost(request.socket.remoteAddress ?? '');
}

function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return loopback.check(bare, 'ipv4');
  // BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 subnet.
  if (family === 6) return loopback.check(bare, 'ipv6');
  return false;
}

import {
  type CompactJWSHeaderParameters,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { AppError } from '../../core/errors.js';
import { type AuthUser, authUserFromClaims, ClaimsRejected } from './auth-user.js';
import { VerifiedTokens } from './verified-tokens.js';

export type { AuthUser } from './auth-user.js';

/** Checks a bearer token and says who it belongs to. */
export interface AccessTokenVerifier {
  /** Resolves to the user, or rejects with `AUTH.INVALID` (or `AUTH.UNAVAILABLE`). */
  verify(token: string): Promise<AuthUser>;
}

/** Where the public keys come from: Supabase's JWKS endpoint, or a key set held in memory. */
export type VerificationKeys =
  | {
      jwksUrl: URL;
      /** How long a fetched key set is trusted; clamped to {@link MAX_JWKS_CACHE_MS}. */
      cacheMaxAgeMs: number;
      /** Minimum time between two fetches caused by unknown `kid`s. Default 30 s. */
      cooldownMs?: number;
      /** Default 5 s. */
      timeoutMs?: number;
    }
  | { jwks: JSONWebKeySet };

export interface AccessTokenVerifierOptions {
  /** The exact `iss` to accept: `${SUPABASE_URL}/auth/v1`, or the local server's. */
  issuer: string;
  keys: VerificationKeys;
  /** Supabase's legacy JWT secret. Only when set is an HS256 token considered at all. */
  legacySecret?: string;
  /** Accept Supabase anonymous sign-ins (`is_anonymous: true`). Default true; see README. */
  allowAnonymousUsers?: boolean;
  /** Allowed clock skew for `exp`, `nbf` and `iat`. Default 5 s. */
  clockToleranceSec?: number;
  /**
   * How long a verified token is remembered (never past its `exp`, and only while the key that
   * checked it is still the key set's key). Default 60 s; 0 checks every request in full.
   */
  verifiedCacheMs?: number;
}

/** Supabase asks verifiers not to cache its key set for longer than this. */
export const MAX_JWKS_CACHE_MS = 20 * 60_000;
const DEFAULT_COOLDOWN_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const AUDIENCE = 'authenticated';
/** Only these are looked up in the key set; each key's own `alg`/`kty` must match too. */
const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256'];
const LEGACY_ALGORITHM = 'HS256';
const MIN_LEGACY_SECRET_LENGTH = 32;
/** Supabase access tokens are ~1 KB; anything far larger is not one, so don't parse it. */
const MAX_TOKEN_LENGTH = 16_384;
const DEFAULT_VERIFIED_CACHE_MS = 60_000;
/** ~300 bytes each: a few MB at most, and more distinct live tokens than one server sees. */
const MAX_VERIFIED_TOKENS = 10_000;

/** What a full check found, and how to ask later whether its key still holds. */
interface Verification {
  claims: JWTPayload;
  key: unknown;
  currentKey: () => Promise<unknown>;
}

/**
 * The JWS a key set is shown when a remembered token's key is looked up again: a compact token
 * has no unprotected header, and the key set reads nothing else but the protected one.
 */
const COMPACT_JWS = { payload: '', signature: '' };

/** The JWKS endpoint failed; not the caller's fault, so not `AUTH.INVALID`. */
class KeySetUnavailable extends Error {
  constructor(cause: unknown) {
    super('JWKS endpoint unavailable', { cause });
    this.name = 'KeySetUnavailable';
  }
}

/** Options for a verifier of tokens issued by the Supabase project at `supabaseUrl`. */
export function supabaseVerifierOptions(auth: {
  supabaseUrl: string;
  supabaseJwtSecret?: string | undefined;
  jwksCacheMs: number;
}): AccessTokenVerifierOptions {
  const base = auth.supabaseUrl.replace(/\/+$/, '');
  const options: AccessTokenVerifierOptions = {
    issuer: `${base}/auth/v1`,
    keys: {
      jwksUrl: new URL(`${base}/auth/v1/.well-known/jwks.json`),
      cacheMaxAgeMs: auth.jwksCacheMs,
    },
  };
  if (auth.supabaseJwtSecret !== undefined) options.legacySecret = auth.supabaseJwtSecret;
  return options;
}

/**
 * Builds the one verifier every transport uses. Asymmetric tokens (ES256, RS256) are checked
 * against the key set; HS256 only against `legacySecret`, and only when it is configured, so
 * a public key can never be used as an HMAC secret (algorithm confusion).
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const toleranceSec = options.clockToleranceSec ?? 5;
  const checks: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: AUDIENCE,
    clockTolerance: toleranceSec,
    requiredClaims: ['exp', 'sub'],
  };
  const policy = { allowAnonymousUsers: options.allowAnonymousUsers ?? true };
  const verified = new VerifiedTokens({
    ttlMs: options.verifiedCacheMs ?? DEFAULT_VERIFIED_CACHE_MS,
    maxEntries: MAX_VERIFIED_TOKENS,
  });

  const secret = legacySecretKey(options.legacySecret);
  const verifiedClaims = claimsVerifier(keyResolver(options.keys), secret, checks);

  return {
    async verify(token) {
      try {
        if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
          throw new errors.JWTInvalid('token length out of range');
        }
        const known = await remembered(verified, token);
        if (known !== undefined) return known;
        const { claims, ...keys } = await verifiedClaims(token);
        rejectFutureIssue(claims, toleranceSec);
        const user = authUserFromClaims(claims, policy);
        // requiredClaims makes `exp` present; jose has checked it is a number.
        verified.remember(token, { user, ...keys, expSec: Number(claims.exp) });
        return user;
      } catch (error) {
        throw toAuthError(error);
      }
    },
  };
}

/** A remembered verification, if the key set still gives the key that made it. */
async function remembered(verified: VerifiedTokens, token: string): Promise<AuthUser | undefined> {
  const entry = verified.get(token);
  if (entry === undefined) return undefined;
  const key = await entry.currentKey().catch(() => undefined);
  return key === entry.key ? entry.user : undefined;
}

/** Checks a token's signature and claims in full, recording the key that checked it. */
function claimsVerifier(
  keySet: JWTVerifyGetKey,
  secret: Uint8Array | undefined,
  checks: JWTVerifyOptions,
): (token: string) => Promise<Verification> {
  return async function verifiedClaims(token) {
    const { alg } = decodeProtectedHeader(token);
    if (alg === LEGACY_ALGORITHM && secret !== undefined) {
      const result = await jwtVerify(token, secret, { ...checks, algorithms: [LEGACY_ALGORITHM] });
      return { claims: result.payload, key: secret, currentKey: async () => secret };
    }
    // The key that checked the signature, exactly as the key set gave it for this header.
    let key: unknown;
    let asked: CompactJWSHeaderParameters | undefined;
    const recordingKeySet: JWTVerifyGetKey = async (header, jws) => {
      const found = await keySet(header, jws);
      [key, asked] = [found, header];
      return found;
    };
    const result = await jwtVerify(token, recordingKeySet, {
      ...checks,
      algorithms: ASYMMETRIC_ALGORITHMS,
    });
    const header = asked;
    const currentKey = async () => (header === undefined ? undefined : keySet(header, COMPACT_JWS));
    return { claims: result.payload, key, currentKey };
  };
}

/**
 * jose checks `exp` and `nbf` but lets `iat` lie in the future; a token issued later than
 * now (beyond the clock skew allowed) was not issued by an honest issuer with a sane clock.
 */
function rejectFutureIssue(claims: JWTPayload, toleranceSec: number): void {
  const nowSec = Math.floor(Date.now() / 1000);
  if (typeof claims.iat === 'number' && claims.iat > nowSec + toleranceSec) {
    throw new errors.JWTClaimValidationFailed(
      '"iat" claim timestamp check failed (in the future)',
      claims,
      'iat',
      'check_failed',
    );
  }
}

function keyResolver(keys: VerificationKeys): JWTVerifyGetKey {
  if ('jwks' in keys) return createLocalJWKSet(keys.jwks);
  const remote = createRemoteJWKSet(keys.jwksUrl, {
    cacheMaxAge: Math.min(keys.cacheMaxAgeMs, MAX_JWKS_CACHE_MS),
    cooldownDuration: keys.cooldownMs ?? DEFAULT_COOLDOWN_MS,
    timeoutDuration: keys.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // No matching key is the token's problem; anything else (network, status, bad JSON) is ours.
      if (error instanceof errors.JWKSNoMatchingKey) throw error;
      if (error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeySetUnavailable(error);
    }
  };
}

function legacySecretKey(secret: string | undefined): Uint8Array | undefined {
  if (secret === undefined) return undefined;
  if (secret.length < MIN_LEGACY_SECRET_LENGTH) {
    throw new AppError(
      'CONFIG.INVALID',
      `SUPABASE_JWT_SECRET: must be at least ${MIN_LEGACY_SECRET_LENGTH} characters`,
    );
  }
  // Supabase (GoTrue) uses the secret's UTF-8 bytes as the HMAC key, not a base64 decoding.
  return new TextEncoder().encode(secret);
}

/** Maps any failure to a client-safe error; the jose error stays in `cause`, never the token. */
function toAuthError(error: unknown): AppError {
  if (error instanceof KeySetUnavailable) {
    return new AppError('AUTH.UNAVAILABLE', 'Cannot check access tokens right now', {
      cause: error,
    });
  }
  if (error instanceof errors.JWTExpired) {
    return new AppError('AUTH.INVALID', 'Access token has expired', {
      cause: error,
      details: { reason: 'expired' },
    });
  }
  return new AppError('AUTH.INVALID', 'Access token is invalid', {
    cause: error,
    details: { reason: rejectionReason(error) },
  });
}

function rejectionReason(error: unknown): string {
  if (error instanceof ClaimsRejected) return error.reason;
  if (error instanceof errors.JWTClaimValidationFailed) return 'claims';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
  return 'malformed';
}

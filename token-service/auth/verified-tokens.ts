import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthUser } from './auth-user.js';

/** A token whose signature and claims were fully checked once. */
export interface VerifiedToken {
  user: Readonly<AuthUser>;
  /** The key (or legacy secret) that checked the signature; a hit needs the same key again. */
  key: unknown;
  /** Asks the key set (which may re-fetch) for the key of this token's header now. */
  currentKey: () => Promise<unknown>;
}

export interface VerifiedTokensOptions {
  /** How long a verification is trusted at most, however far off the token's `exp` is. */
  ttlMs: number;
  /** Entries kept; the least recently used go first. */
  maxEntries: number;
}

/**
 * Remembers verified access tokens, so a client that sends the same token on every request
 * pays for the ES256 check once a TTL. Only successes are kept (a forged token is checked in
 * full every time); entries are keyed by the token's SHA-256, so the cache holds no usable
 * bearer token; an entry ends at the token's `exp` with no clock tolerance, so the cache
 * never stretches a token's life. Time is `Date.now()`, as jose reads it.
 */
export class VerifiedTokens {
  readonly #entries: LRUCache<string, VerifiedToken>;
  readonly #ttlMs: number;

  constructor(options: VerifiedTokensOptions) {
    // Time is Date.now(), read on every look (no 1 ms debounce): a token ends to the ms.
    this.#entries = new LRUCache({ max: options.maxEntries, perf: Date, ttlResolution: 0 });
    this.#ttlMs = options.ttlMs;
  }

  /** The entry for `token` if it has not expired. */
  get(token: string): VerifiedToken | undefined {
    return this.#entries.get(digest(token));
  }

  /** Keeps a verification until `min(exp, now + ttl)`; no-op when that is already past. */
  remember(token: string, verified: VerifiedToken & { expSec: number }): void {
    const { expSec, user, key, currentKey } = verified;
    const now = Date.now();
    // lru-cache serves an entry while its age is at most `ttl`; ours ends before `expiresAtMs`.
    const ttl = Math.min(expSec * 1000, now + this.#ttlMs) - now - 1;
    if (this.#ttlMs <= 0 || ttl <= 0) return;
    const frozen = Object.freeze({ ...user });
    this.#entries.set(digest(token), { user: frozen, key, currentKey }, { ttl });
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

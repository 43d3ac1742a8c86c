import type { JWTPayload } from 'jose';
import { SYSTEM_PROFILE_ID } from '../../db/queries/profiles.js';

/** The caller behind a verified access token. */
export interface AuthUser {
  /** The token's `sub`: the Supabase (or local) user id, a lower-case uuid. */
  id: string;
  /** Absent for anonymous users and phone-only sign-ins (Supabase sends `''` then). */
  email?: string;
  /** The Postgres role the issuer granted; `authenticated` for ordinary users. */
  role: string;
  /**
   * True for Supabase anonymous sign-ins (`is_anonymous: true`): a real user with its own id
   * and history, but no e-mail, password or provider behind it.
   */
  isAnonymous: boolean;
  /** Supabase's `session_id`: one sign-in on one device. */
  sessionId?: string;
  /** From `user_metadata` (`display_name`, `full_name` or `name`); user-editable, so display only. */
  displayName?: string;
}

/** What a token's claims may do; `allowAnonymousUsers` is the only choice an operator has. */
export interface ClaimsPolicy {
  allowAnonymousUsers: boolean;
}

/** Why a correctly signed token still is not a user's access token. */
export class ClaimsRejected extends Error {
  readonly reason: 'subject' | 'role' | 'anonymous' | 'claims';

  constructor(reason: ClaimsRejected['reason'], message: string) {
    super(message);
    this.name = 'ClaimsRejected';
    this.reason = reason;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Roles that belong to API keys, not users. Supabase's anon and service_role keys are JWTs
 * too; neither names a user (no `sub`), and the service role bypasses row-level security.
 */
const KEY_ROLES = new Set(['anon', 'service_role']);

const DISPLAY_NAME_CLAIMS = ['display_name', 'full_name', 'name'] as const;
const MAX_DISPLAY_NAME = 100;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * Turns the claims of a token whose signature, issuer, audience and lifetime were already
 * checked into an {@link AuthUser}, or throws {@link ClaimsRejected}.
 */
export function authUserFromClaims(claims: JWTPayload, policy: ClaimsPolicy): AuthUser {
  const { sub, role, email, session_id: sessionId, is_anonymous: isAnonymous } = claims;
  if (typeof role !== 'string' || role === '' || KEY_ROLES.has(role)) {
    throw new ClaimsRejected('role', 'token role is not a user role');
  }
  if (typeof sub !== 'string' || !UUID.test(sub)) {
    throw new ClaimsRejected('subject', 'token subject is not a user id');
  }
  // Parley's own profile owns the example characters; no token may act as it.
  if (sub.toLowerCase() === SYSTEM_PROFILE_ID) {
    throw new ClaimsRejected('subject', 'token subject is a reserved profile');
  }
  if (isAnonymous !== undefined && typeof isAnonymous !== 'boolean') {
    throw new ClaimsRejected('claims', 'is_anonymous is not a boolean');
  }
  if (isAnonymous === true && !policy.allowAnonymousUsers) {
    throw new ClaimsRejected('anonymous', 'anonymous users are not accepted');
  }
  const user: AuthUser = { id: sub.toLowerCase(), role, isAnonymous: isAnonymous === true };
  if (typeof email === 'string' && email !== '') user.email = email;
  if (typeof sessionId === 'string' && sessionId !== '') user.sessionId = sessionId;
  const displayName = displayNameFrom(claims.user_metadata);
  if (displayName !== undefined) user.displayName = displayName;
  return user;
}

function displayNameFrom(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  for (const claim of DISPLAY_NAME_CLAIMS) {
    const value: unknown = (metadata as Record<string, unknown>)[claim];
    // User-editable: control characters (a NUL cannot even be stored) are dropped.
    const name = typeof value === 'string' ? value.replace(CONTROL_CHARACTERS, '').trim() : '';
    if (name !== '') return name.slice(0, MAX_DISPLAY_NAME);
  }
  return undefined;
}

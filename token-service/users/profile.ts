import type { Executor } from '../../db/client.js';
import { getOrCreateProfile, type ProfileSeed } from '../../db/queries/profiles.js';
import type { AuthUser } from '../auth/verifier.js';

/** Profiles already known to exist; past this many the memory is simply started again. */
const MAX_REMEMBERED = 10_000;

/** Makes sure a user's profile exists; called on every authenticated request. */
export type EnsureProfile = (user: AuthUser) => Promise<void>;

/**
 * Creates a caller's profile on first authenticated use. Profiles are never deleted while the
 * server runs, so after the first success a user costs no query.
 */
export function createProfileEnsurer(db: Executor): EnsureProfile {
  const known = new Set<string>();
  return async (user) => {
    if (known.has(user.id)) return;
    await getOrCreateProfile(db, profileSeed(user));
    if (known.size >= MAX_REMEMBERED) known.clear();
    known.add(user.id);
  };
}

/** Names for a new profile: the token's display name, else the e-mail's local part. */
export function profileSeed(user: AuthUser): ProfileSeed {
  const emailName = user.email?.split('@')[0]?.trim() || undefined;
  const fallback = `user-${user.id.slice(0, 8)}`;
  return {
    id: user.id,
    displayName: user.displayName ?? emailName ?? fallback,
    accountName: emailName ?? fallback,
  };
}

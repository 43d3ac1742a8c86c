import { eq } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type UserProfile, userProfiles } from '../schema.js';

/**
 * The profile that owns Parley's own rows (the example characters). It is nobody's account:
 * no access token may name it (`auth-user.ts`), so nobody can act as it.
 */
export const SYSTEM_PROFILE_ID = '00000000-0000-0000-0000-000000000000';

export interface ProfileSeed {
  id: string;
  displayName: string;
  accountName: string;
}

/** Returns the profile of a user, creating it on first use. Safe under concurrent first uses. */
export async function getOrCreateProfile(db: Executor, seed: ProfileSeed): Promise<UserProfile> {
  const [created] = await db
    .insert(userProfiles)
    .values(seed)
    .onConflictDoNothing({ target: userProfiles.id })
    .returning();
  if (created !== undefined) return created;
  const existing = await getProfile(db, seed.id);
  if (existing === undefined) throw new Error(`profile ${seed.id} vanished after a conflict`);
  return existing;
}

export async function getProfile(db: Executor, id: string): Promise<UserProfile | undefined> {
  const [row] = await db.select().from(userProfiles).where(eq(userProfiles.id, id));
  return row;
}

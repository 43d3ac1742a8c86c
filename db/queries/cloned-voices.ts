import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type ClonedVoice, characters, clonedVoices } from '../schema.js';

export interface NewClonedVoice {
  ownerId: string;
  providerVoiceId: string;
  name: string;
  language: string;
}

export async function insertClonedVoice(db: Executor, voice: NewClonedVoice): Promise<ClonedVoice> {
  const [row] = await db.insert(clonedVoices).values(voice).returning();
  if (row === undefined) throw new Error('insert into cloned_voices returned no row');
  return row;
}

/** A user's cloned voices, newest first. */
export async function listClonedVoices(db: Executor, ownerId: string): Promise<ClonedVoice[]> {
  return db
    .select()
    .from(clonedVoices)
    .where(eq(clonedVoices.ownerId, ownerId))
    .orderBy(desc(clonedVoices.createdAt));
}

/** The cloned voice with this provider voice id, whoever owns it. */
export async function findClonedVoice(
  db: Executor,
  providerVoiceId: string,
): Promise<ClonedVoice | undefined> {
  const [row] = await db
    .select()
    .from(clonedVoices)
    .where(eq(clonedVoices.providerVoiceId, providerVoiceId));
  return row;
}

/**
 * Deletes a user's cloned voice and takes it off that user's characters (they fall back to
 * the default voice), in one transaction so no character is left naming a deleted voice.
 */
export async function deleteClonedVoice(
  db: Executor,
  voice: Pick<ClonedVoice, 'id' | 'ownerId' | 'providerVoiceId'>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(characters)
      .set({ voiceId: null, updatedAt: new Date() })
      .where(
        and(eq(characters.ownerId, voice.ownerId), eq(characters.voiceId, voice.providerVoiceId)),
      );
    await tx
      .delete(clonedVoices)
      .where(and(eq(clonedVoices.id, voice.id), eq(clonedVoices.ownerId, voice.ownerId)));
  });
}

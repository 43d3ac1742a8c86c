import { eq } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { characterPictures } from '../schema.js';

export type CharacterPicture = typeof characterPictures.$inferSelect;
export type NewCharacterPicture = Pick<
  CharacterPicture,
  'characterId' | 'contentType' | 'bytes' | 'etag'
>;

/** Stores the character's picture, replacing the one it had. */
export async function savePicture(db: Executor, picture: NewCharacterPicture): Promise<void> {
  const { contentType, bytes, etag } = picture;
  await db
    .insert(characterPictures)
    .values(picture)
    .onConflictDoUpdate({
      target: characterPictures.characterId,
      set: { contentType, bytes, etag, updatedAt: new Date() },
    });
}

export async function getPicture(
  db: Executor,
  characterId: string,
): Promise<CharacterPicture | undefined> {
  const [row] = await db
    .select()
    .from(characterPictures)
    .where(eq(characterPictures.characterId, characterId));
  return row;
}

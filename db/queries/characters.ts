import { and, asc, eq, or, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type Character, characters } from '../schema.js';

export type NewCharacter = Pick<Character, 'ownerId' | 'name' | 'instructions'> &
  Partial<Pick<Character, 'greeting' | 'description' | 'voiceId' | 'language' | 'isPublic'>>;

export type CharacterPatch = Partial<
  Pick<
    Character,
    'name' | 'instructions' | 'greeting' | 'description' | 'voiceId' | 'language' | 'isPublic'
  >
>;

export async function createCharacter(db: Executor, input: NewCharacter): Promise<Character> {
  const [row] = await db.insert(characters).values(input).returning();
  if (row === undefined) throw new Error('insert into characters returned nothing');
  return row;
}

export async function getCharacter(db: Executor, id: string): Promise<Character | undefined> {
  const [row] = await db.select().from(characters).where(eq(characters.id, id));
  return row;
}

/** The characters a user may talk to: every public one and their own. */
export async function listVisibleCharacters(db: Executor, userId: string): Promise<Character[]> {
  return db
    .select()
    .from(characters)
    .where(or(eq(characters.isPublic, true), eq(characters.ownerId, userId)))
    .orderBy(asc(characters.createdAt), asc(characters.id));
}

/** What decides who may see a character. */
export type CharacterVisibility = Pick<Character, 'isPublic' | 'ownerId'>;

export function canSeeCharacter(character: CharacterVisibility, userId: string): boolean {
  return character.isPublic || character.ownerId === userId;
}

/** Updates a character only if `ownerId` owns it; returns undefined otherwise. */
export async function updateOwnCharacter(
  db: Executor,
  params: { id: string; ownerId: string; patch: CharacterPatch },
): Promise<Character | undefined> {
  const [row] = await db
    .update(characters)
    .set({ ...params.patch, updatedAt: sql`now()` })
    .where(and(eq(characters.id, params.id), eq(characters.ownerId, params.ownerId)))
    .returning();
  return row;
}

/** Characters with exactly this name, for tools that let an operator name one. */
export async function findCharactersByName(db: Executor, name: string): Promise<Character[]> {
  return db.select().from(characters).where(eq(characters.name, name));
}

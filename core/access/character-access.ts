import type { Executor } from '../../db/client.js';
import {
  type CharacterVisibility,
  canSeeCharacter,
  getCharacter,
} from '../../db/queries/characters.js';
import type { Character } from '../../db/schema.js';
import { AppError } from '../errors.js';

/**
 * `character` when the user may talk to it. Someone else's private character is reported
 * exactly like one that does not exist, so its id reveals nothing.
 */
export function visibleTo<T extends CharacterVisibility>(
  character: T | undefined,
  userId: string,
): T {
  if (character === undefined || !canSeeCharacter(character, userId)) {
    throw new AppError('CHARACTER.NOT_FOUND', 'No such character');
  }
  return character;
}

/** A character the user may talk to, read now ({@link visibleTo}). */
export async function visibleCharacter(
  db: Executor,
  userId: string,
  characterId: string,
): Promise<Character> {
  return visibleTo(await getCharacter(db, characterId), userId);
}

/** A character the user owns: 404 when they cannot see it, 403 when it is someone else's. */
export async function ownCharacter(
  db: Executor,
  userId: string,
  characterId: string,
): Promise<Character> {
  const character = await visibleCharacter(db, userId, characterId);
  if (character.ownerId !== userId) {
    throw new AppError('CHARACTER.FORBIDDEN', 'Only the owner may change this character');
  }
  return character;
}

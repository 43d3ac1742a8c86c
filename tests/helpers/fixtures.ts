import { randomUUID } from 'node:crypto';
import type { Executor } from '../../db/client.js';
import { createCharacter, type NewCharacter } from '../../db/queries/characters.js';
import { getOrCreateChatRoom } from '../../db/queries/chat-rooms.js';
import { getOrCreateProfile } from '../../db/queries/profiles.js';
import type { Character, ChatRoom, UserProfile } from '../../db/schema.js';

/** A new user with a profile. */
export async function makeUser(db: Executor, name = 'Ada'): Promise<UserProfile> {
  const id = randomUUID();
  return getOrCreateProfile(db, {
    id,
    displayName: name,
    accountName: `${name.toLowerCase()}-${id.slice(0, 8)}`,
  });
}

/** A character owned by `owner`. */
export async function makeCharacter(
  db: Executor,
  owner: UserProfile,
  overrides: Partial<NewCharacter> = {},
): Promise<Character> {
  return createCharacter(db, {
    ownerId: owner.id,
    name: 'Mira',
    instructions: 'You are Mira, a patient astronomy guide.',
    greeting: 'Hello! Ask me anything about the sky.',
    ...overrides,
  });
}

/** A user, their character, and the room between them. */
export async function makeConversation(
  db: Executor,
): Promise<{ user: UserProfile; character: Character; room: ChatRoom }> {
  const user = await makeUser(db);
  const character = await makeCharacter(db, user);
  const room = await getOrCreateChatRoom(db, { userId: user.id, characterId: character.id });
  return { user, character, room };
}

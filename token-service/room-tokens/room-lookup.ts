import { LRUCache } from 'lru-cache';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  type CharacterVisibility,
  canSeeCharacter,
  getCharacter,
} from '../../db/queries/characters.js';
import { getOrCreateChatRoom } from '../../db/queries/chat-rooms.js';
import { getProfile } from '../../db/queries/profiles.js';
import type { ChatRoom } from '../../db/schema.js';
import type { AuthUser } from '../auth/verifier.js';
import { profileSeed } from '../users/profile.js';

/** What a room token needs to know of a room. */
export type RoomRef = Pick<ChatRoom, 'id' | 'userId' | 'characterId'>;

export interface RoomLookupOptions {
  /** How long a character's visibility is trusted: its owner may make it private. Default 5 s. */
  characterTtlMs?: number;
  /** Entries each cache keeps, least recently used dropped first. Default 10,000. */
  maxEntries?: number;
}

/**
 * The reads behind `POST /api/token`, remembered so a returning caller costs no query:
 * - the room of a (user, character) pair, for good: rooms are never deleted, moved to another
 *   user or character, and a membership is created with its room;
 * - the caller's profile display name, for good: profiles are never renamed;
 * - a character's owner and `isPublic`, for `characterTtlMs` (time is `Date.now()`).
 * Whoever adds deleting or renaming any of these must clear what is remembered here.
 */
export interface RoomLookup {
  /** `roomWithCharacter` of `chat-rooms/room-access.ts`: same checks, same errors. */
  roomWithCharacter(userId: string, characterId: string): Promise<RoomRef>;
  /** The caller's profile name, as the participant name in the room. */
  displayName(user: AuthUser): Promise<string>;
}

const DEFAULT_CHARACTER_TTL_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 10_000;

interface SeenCharacter {
  visibility: CharacterVisibility;
  expiresAtMs: number;
}

export function createRoomLookup(db: Executor, options: RoomLookupOptions = {}): RoomLookup {
  const ttlMs = options.characterTtlMs ?? DEFAULT_CHARACTER_TTL_MS;
  const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const characters = new LRUCache<string, SeenCharacter>({ max });
  const rooms = new LRUCache<string, RoomRef>({ max });
  const names = new LRUCache<string, string>({ max });

  async function visibility(characterId: string): Promise<CharacterVisibility | undefined> {
    const seen = characters.get(characterId);
    if (seen !== undefined && Date.now() < seen.expiresAtMs) return seen.visibility;
    const character = await getCharacter(db, characterId);
    if (character === undefined) return undefined;
    const { isPublic, ownerId } = character;
    characters.set(characterId, {
      visibility: { isPublic, ownerId },
      expiresAtMs: Date.now() + ttlMs,
    });
    return { isPublic, ownerId };
  }

  return {
    async roomWithCharacter(userId, characterId) {
      const character = await visibility(characterId);
      if (character === undefined || !canSeeCharacter(character, userId)) {
        throw new AppError('CHARACTER.NOT_FOUND', 'No such character');
      }
      const key = `${userId}/${characterId}`;
      const known = rooms.get(key);
      if (known !== undefined) return known;
      const { id } = await getOrCreateChatRoom(db, { userId, characterId });
      const room = { id, userId, characterId };
      rooms.set(key, room);
      return room;
    },

    async displayName(user) {
      const known = names.get(user.id);
      if (known !== undefined) return known;
      const profile = await getProfile(db, user.id);
      // Every authenticated request makes sure the profile exists; no profile: nothing to keep.
      if (profile === undefined) return profileSeed(user).displayName;
      names.set(user.id, profile.displayName);
      return profile.displayName;
    },
  };
}

import { LRUCache } from 'lru-cache';
import { visibleTo } from '../../core/access/character-access.js';
import type { Executor } from '../../db/client.js';
import { type CharacterVisibility, getCharacter } from '../../db/queries/characters.js';
import { getOrCreateChatRoom } from '../../db/queries/chat-rooms.js';
import { getProfile } from '../../db/queries/profiles.js';
import type { ChatRoom } from '../../db/schema.js';
import type { AuthUser } from '../auth/verifier.js';
import { profileSeed } from '../users/profile.js';

/** What a room token needs to know of a room. */
export type RoomRef = Pick<ChatRoom, 'id' | 'userId' | 'characterId'>;

export interface RoomLookupOptions {
  /**
   * How long a character's visibility is trusted when it was changed through another process
   * (a change through this one calls `forgetCharacter`). Default 5 s.
   */
  characterTtlMs?: number;
  /** Entries each cache keeps, least recently used dropped first. Default 10,000. */
  maxEntries?: number;
}

/**
 * The reads behind `POST /api/token`, remembered so a returning caller costs no query:
 * - the room of a (user, character) pair, until its owner deletes it (`forgetRoom`): rooms are
 *   never moved to another user or character, and a membership is created with its room;
 * - the caller's profile display name, for good: profiles are never renamed;
 * - a character's owner and `isPublic`, until it is changed here (`forgetCharacter`) or for
 *   `characterTtlMs` (time is `Date.now()`); the access rule itself is `visibleTo` of
 *   `core/access/character-access.ts`.
 * Whoever adds deleting or renaming any of these must clear what is remembered here
 * (`DELETE /api/chat-rooms/:id` calls `forgetRoom`, `PATCH /api/characters/:id`
 * `forgetCharacter`).
 */
export interface RoomLookup {
  /** `roomWithCharacter` of `core/access/room-access.ts`: same checks, same errors. */
  roomWithCharacter(userId: string, characterId: string): Promise<RoomRef>;
  /** The caller's profile name, as the participant name in the room. */
  displayName(user: AuthUser): Promise<string>;
  /** The pair's room was deleted: the next token looks it up (and creates it) afresh. */
  forgetRoom(userId: string, characterId: string): void;
  /** The character was changed: the next token reads its visibility afresh. */
  forgetCharacter(characterId: string): void;
}

const DEFAULT_CHARACTER_TTL_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 10_000;

interface Pair {
  userId: string;
  characterId: string;
}

/** A character's owner and visibility, trusted for `ttl` ms. */
function characterCache(db: Executor, max: number, ttl: number) {
  return new LRUCache<string, CharacterVisibility>({
    max,
    ttl,
    // Time is Date.now(), as everywhere else in the token service, read on every look.
    perf: Date,
    ttlResolution: 0,
    // A read under way when the character is forgotten answers the callers already waiting
    // (they asked before the change) but is not kept.
    ignoreFetchAbort: true,
    fetchMethod: async (characterId) => {
      const character = await getCharacter(db, characterId);
      return character && { isPublic: character.isPublic, ownerId: character.ownerId };
    },
  });
}

/** The room of a (user, character) pair, created on first use, kept until forgotten. */
function roomCache(db: Executor, max: number) {
  return new LRUCache<string, RoomRef, Pair>({
    max,
    fetchMethod: async (_key, _stale, { context }) => {
      const { id } = await getOrCreateChatRoom(db, context);
      return { id, ...context };
    },
  });
}

/** Profile display names: every authenticated request makes sure the profile exists. */
function nameCache(db: Executor, max: number) {
  return new LRUCache<string, string>({
    max,
    // No profile: nothing to keep.
    fetchMethod: async (userId) => (await getProfile(db, userId))?.displayName,
  });
}

export function createRoomLookup(db: Executor, options: RoomLookupOptions = {}): RoomLookup {
  const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const characters = characterCache(db, max, options.characterTtlMs ?? DEFAULT_CHARACTER_TTL_MS);
  const rooms = roomCache(db, max);
  const names = nameCache(db, max);
  const roomKey = (userId: string, characterId: string) => `${userId}/${characterId}`;

  return {
    async roomWithCharacter(userId, characterId) {
      visibleTo(await characters.fetch(characterId), userId);
      const room = await rooms.fetch(roomKey(userId, characterId), {
        context: { userId, characterId },
      });
      if (room === undefined) throw new Error('a chat room is always created');
      return room;
    },
    async displayName(user) {
      return (await names.fetch(user.id)) ?? profileSeed(user).displayName;
    },
    forgetRoom(userId, characterId) {
      rooms.delete(roomKey(userId, characterId));
    },
    forgetCharacter(characterId) {
      characters.delete(characterId);
    },
  };
}

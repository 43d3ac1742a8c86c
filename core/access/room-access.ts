import type { Executor } from '../../db/client.js';
import { type CharacterVisibility, canSeeCharacter } from '../../db/queries/characters.js';
import {
  getChatRoom,
  getChatRoomForMember,
  getOrCreateChatRoom,
} from '../../db/queries/chat-rooms.js';
import { readRoomAccess } from '../../db/queries/room-access.js';
import type { ChatRoom } from '../../db/schema.js';
import { AppError } from '../errors.js';
import { visibleCharacter } from './character-access.js';

/** A room the user is a member of: 404 when it does not exist, 403 when it is someone else's. */
export async function memberRoom(
  db: Executor,
  userId: string,
  chatRoomId: number,
): Promise<ChatRoom> {
  const room = await getChatRoomForMember(db, { chatRoomId, userId });
  if (room !== undefined) return room;
  if ((await getChatRoom(db, chatRoomId)) === undefined) {
    throw new AppError('ROOM.NOT_FOUND', 'No such chat room');
  }
  throw new AppError('ROOM.FORBIDDEN', 'This chat room is not yours');
}

/** The user's room with a character they may talk to, created on first use. */
export async function roomWithCharacter(
  db: Executor,
  userId: string,
  characterId: string,
): Promise<ChatRoom> {
  await visibleCharacter(db, userId, characterId);
  return getOrCreateChatRoom(db, { userId, characterId });
}

/**
 * THE rule for who may talk in a room, whichever way they come in (HTTP chat, WebSocket,
 * WebRTC offer, LiveKit token) and for as long as they talk (open conversations are re-checked,
 * see `access-watch.ts`): a member of the room, while its character is visible to them (public,
 * or their own). Reading a room's history needs membership only ({@link memberRoom}): a
 * character made private leaves its visitors' history readable but not continuable.
 * Returns the refusal, or undefined when the user may talk.
 */
export function talkRefusal(
  access: { member: boolean; character: CharacterVisibility } | undefined,
  userId: string,
): AppError | undefined {
  if (access === undefined) return new AppError('ROOM.NOT_FOUND', 'No such chat room');
  if (!access.member) return new AppError('ROOM.FORBIDDEN', 'This chat room is not yours');
  if (!canSeeCharacter(access.character, userId)) {
    return new AppError(
      'CHARACTER.UNAVAILABLE',
      'This character is no longer available; the conversation can be read, not continued',
    );
  }
  return undefined;
}

/** A room the user may talk in now: {@link talkRefusal} applied to what is stored. */
export async function talkRoom(
  db: Executor,
  userId: string,
  chatRoomId: number,
): Promise<ChatRoom> {
  const access = await readRoomAccess(db, { chatRoomId, userId });
  const refusal = talkRefusal(access, userId);
  if (refusal !== undefined || access === undefined) throw refusal;
  return access.room;
}

/** How a caller names the room to talk in: an existing room, or a character to talk to. */
export interface RoomChoice {
  chatRoomId?: number | undefined;
  characterId?: string | undefined;
}

/**
 * The room a conversation is for, with the access rule applied: every transport calls this
 * (`POST /api/chat`, `/ws/chat`, `POST /api/rtc/offer`, `POST /api/token` by room name). A room
 * id wins; a character id given with it must be that room's character. Neither is a bad
 * request. By character id, a character the user cannot see is `CHARACTER.NOT_FOUND`.
 */
export async function chosenRoom(
  db: Executor,
  userId: string,
  choice: RoomChoice,
): Promise<ChatRoom> {
  if (choice.chatRoomId !== undefined) {
    const room = await talkRoom(db, userId, choice.chatRoomId);
    if (choice.characterId !== undefined && choice.characterId !== room.characterId) {
      throw new AppError('REQUEST.INVALID', 'character_id is not the character of this room', {
        details: [{ in: 'body', field: 'character_id', message: 'does not match the room' }],
      });
    }
    return room;
  }
  if (choice.characterId !== undefined) return roomWithCharacter(db, userId, choice.characterId);
  throw new AppError('REQUEST.INVALID', 'Name a chat room or a character', {
    details: [{ in: 'body', field: '', message: 'give chat_room_id or character_id' }],
  });
}

import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  getChatRoom,
  getChatRoomForMember,
  getOrCreateChatRoom,
} from '../../db/queries/chat-rooms.js';
import type { ChatRoom } from '../../db/schema.js';
import { visibleCharacter } from '../characters/character-access.js';

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

/** How a caller names the room to talk in: an existing room, or a character to talk to. */
export interface RoomChoice {
  chatRoomId?: number | undefined;
  characterId?: string | undefined;
}

/**
 * The room a chat or a room token is for. A room id wins; a character id given with it must be
 * that room's character. Neither is a bad request.
 */
export async function chosenRoom(
  db: Executor,
  userId: string,
  choice: RoomChoice,
): Promise<ChatRoom> {
  if (choice.chatRoomId !== undefined) {
    const room = await memberRoom(db, userId, choice.chatRoomId);
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

import { type Dispatch, invalidDispatch, roomNameOf } from '../../../core/livekit-dispatch.js';
import type { Character, ChatRoom } from '../../../db/schema.js';

/**
 * Checks a dispatch against what the database says, so a stale or hand-made dispatch never
 * speaks for another user's conversation: the job's room must be the chat room's room, and
 * the chat room must belong to the user and the character the dispatch names.
 */
export function checkDispatch(
  dispatch: Dispatch,
  found: { roomName: string | undefined; chatRoom: ChatRoom; character: Character },
): void {
  const problems: string[] = [];
  const roomName = roomNameOf(dispatch.chatRoomId);
  if (found.roomName !== roomName) problems.push(`room: the job's room is not ${roomName}`);
  if (found.chatRoom.userId !== dispatch.userId) {
    problems.push('user_id: not the chat room’s user');
  }
  if (found.character.id !== dispatch.characterId) {
    problems.push('character_id: not the chat room’s character');
  }
  if (problems.length > 0) throw invalidDispatch(problems);
}

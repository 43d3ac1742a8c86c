import { z } from 'zod';
import { AppError } from '../../../core/errors.js';
import type { Character, ChatRoom } from '../../../db/schema.js';
import { roomNameOf } from '../../../token-service/room-tokens/room-token.js';

/**
 * What the token service puts in the room token's agent dispatch (`RoomAgentDispatch`
 * metadata, JSON): whose conversation the character's agent holds.
 */
const dispatchMetadataSchema = z.object({
  chat_room_id: z.number().int().positive().max(2_147_483_647),
  character_id: z.uuid(),
  user_id: z.uuid(),
});

/** A job's validated dispatch, in Parley's own casing. */
export interface Dispatch {
  chatRoomId: number;
  characterId: string;
  /** Also the user's participant identity in the room (the token service signs it so). */
  userId: string;
}

/**
 * Parses a job's dispatch metadata. `REQUEST.INVALID` when it is not JSON or lacks a field;
 * `details` lists the problems by field, never the values.
 */
export function parseDispatchMetadata(raw: string): Dispatch {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalid(['metadata: not JSON (expected {"chat_room_id", "character_id", "user_id"})']);
  }
  const parsed = dispatchMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const { chat_room_id, character_id, user_id } = parsed.data;
  return { chatRoomId: chat_room_id, characterId: character_id, userId: user_id };
}

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
  if (problems.length > 0) throw invalid(problems);
}

function invalid(problems: string[]): AppError {
  return new AppError('REQUEST.INVALID', `Invalid agent dispatch: ${problems.join('; ')}`, {
    details: problems,
  });
}

import { z } from 'zod';
import { AppError } from './errors.js';

/**
 * The contract between the token service and the LiveKit agent worker, written once: the
 * LiveKit room that holds a chat room's conversation, and the dispatch metadata the room
 * token carries to the character's agent (`RoomAgentDispatch.metadata`, JSON).
 */

const ROOM_NAME_PREFIX = 'parley-chat-';
const MAX_INT4 = 2_147_483_647;

/** The LiveKit room of a chat room. */
export function roomNameOf(chatRoomId: number): string {
  return `${ROOM_NAME_PREFIX}${chatRoomId}`;
}

/** The chat room id inside a LiveKit room name; undefined for names Parley did not make. */
export function chatRoomIdOf(roomName: string): number | undefined {
  const match = /^parley-chat-([1-9][0-9]{0,9})$/.exec(roomName);
  if (match?.[1] === undefined) return undefined;
  const id = Number(match[1]);
  return id <= MAX_INT4 ? id : undefined;
}

/** Whose conversation the character's agent holds, in Parley's own casing. */
export interface Dispatch {
  chatRoomId: number;
  characterId: string;
  /** Also the user's participant identity in the room (the token service signs it so). */
  userId: string;
}

/** The wire form, snake_case like the rest of the HTTP API. */
const dispatchMetadataSchema = z.object({
  chat_room_id: z.number().int().positive().max(MAX_INT4),
  character_id: z.uuid(),
  user_id: z.uuid(),
});

/** The dispatch as the room token carries it. */
export function encodeDispatchMetadata(dispatch: Dispatch): string {
  const wire: z.infer<typeof dispatchMetadataSchema> = {
    chat_room_id: dispatch.chatRoomId,
    character_id: dispatch.characterId,
    user_id: dispatch.userId,
  };
  return JSON.stringify(wire);
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
    throw invalidDispatch([
      'metadata: not JSON (expected {"chat_room_id", "character_id", "user_id"})',
    ]);
  }
  const parsed = dispatchMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw invalidDispatch(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const { chat_room_id, character_id, user_id } = parsed.data;
  return { chatRoomId: chat_room_id, characterId: character_id, userId: user_id };
}

export function invalidDispatch(problems: string[]): AppError {
  return new AppError('REQUEST.INVALID', `Invalid agent dispatch: ${problems.join('; ')}`, {
    details: problems,
  });
}

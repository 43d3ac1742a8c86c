import { z } from 'zod';
import type { ChatRoom, Message } from '../../db/schema.js';

/** PostgreSQL's `integer`: ids and sequence numbers past it are a client error, not a 500. */
export const PG_INT_MAX = 2_147_483_647;

export const chatRoomId = z.coerce.number().int().positive().max(PG_INT_MAX);

export const chatRoomView = z
  .object({
    id: z.number().int(),
    character_id: z.uuid(),
    /** Sequence number of the newest message; 0 for an empty room. */
    last_seq: z.number().int(),
    /** Whether the character remembers this conversation in later ones (see memories). */
    memory_enabled: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'ChatRoom' });

export const messageView = z
  .object({
    id: z.number().int(),
    seq: z.number().int(),
    role: z.enum(['user', 'character']),
    text: z.string(),
    modality: z.enum(['voice', 'text']),
    /** A spoken reply the user cut off; `text` is what was actually said. */
    interrupted: z.boolean(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Message' });

export const messagePageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce
    .number()
    .int()
    .positive()
    .max(PG_INT_MAX)
    .optional()
    .describe('Only messages older than this seq: pass the previous page’s next_before'),
});

export const messagePageView = z
  .object({
    /** Oldest first. */
    messages: z.array(messageView),
    /** The `before` of the previous (older) page; null when this is the oldest. */
    next_before: z.number().int().nullable(),
  })
  .meta({ id: 'MessagePage' });

export function toChatRoomView(room: ChatRoom): z.infer<typeof chatRoomView> {
  return {
    id: room.id,
    character_id: room.characterId,
    last_seq: room.lastSeq,
    memory_enabled: room.memoryEnabled,
    created_at: room.createdAt.toISOString(),
    updated_at: room.updatedAt.toISOString(),
  };
}

export function toMessageView(message: Message): z.infer<typeof messageView> {
  return {
    id: message.id,
    seq: message.seq,
    role: message.sender,
    text: message.text,
    modality: message.modality,
    interrupted: message.interrupted,
    created_at: message.createdAt.toISOString(),
  };
}

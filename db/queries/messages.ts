import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../client.js';
import { chatRooms, type Message, messages } from '../schema.js';

export type NewMessage = Pick<Message, 'chatRoomId' | 'sender' | 'text' | 'modality'> &
  Partial<Pick<Message, 'interrupted' | 'metrics' | 'clientId'>>;

export interface AppendResult {
  message: Message;
  /** False when a message with the same client id was already stored. */
  created: boolean;
}

/**
 * Appends a message to a room in one statement: the room row is locked while the next
 * sequence number is taken, so concurrent appends get distinct, gapless, ordered numbers. A
 * client id already stored in the room fails the whole statement (so it takes no number) and
 * the stored message is returned instead of a second copy.
 */
export async function appendMessage(db: Executor, input: NewMessage): Promise<AppendResult> {
  try {
    return { message: await insertNext(db, input), created: true };
  } catch (error) {
    const code = sqlState(error);
    if (code === UNIQUE_VIOLATION && input.clientId != null) {
      const existing = await findMessageByClientId(db, input.chatRoomId, input.clientId);
      if (existing !== undefined) return { message: existing, created: false };
    }
    if (code === NOT_NULL_VIOLATION || code === FOREIGN_KEY_VIOLATION) {
      throw new AppError('ROOM.NOT_FOUND', `Chat room ${input.chatRoomId} does not exist`, {
        cause: error,
      });
    }
    throw error;
  }
}

const UNIQUE_VIOLATION = '23505';
const NOT_NULL_VIOLATION = '23502';
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * `update chat_rooms ... returning last_seq` as a data-modifying CTE feeding the insert. A
 * single statement needs no BEGIN/COMMIT round trips and is atomic by itself. Without the
 * room the sequence number is null and the insert fails on `seq`'s NOT NULL.
 */
async function insertNext(db: Executor, input: NewMessage): Promise<Message> {
  const next = db.$with('next_seq').as(
    db
      .update(chatRooms)
      .set({ lastSeq: sql`${chatRooms.lastSeq} + 1`, updatedAt: sql`now()` })
      .where(eq(chatRooms.id, input.chatRoomId))
      .returning({ seq: chatRooms.lastSeq }),
  );
  const [row] = await db
    .with(next)
    .insert(messages)
    .values({ ...input, seq: sql`(select ${next.seq} from ${next})` })
    .returning();
  if (row === undefined) throw new Error('insert returned no row');
  return row;
}

/** The SQLSTATE of a driver error, however deep the query builder wrapped it. */
function sqlState(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export async function findMessageByClientId(
  db: Executor,
  chatRoomId: number,
  clientId: string,
): Promise<Message | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.chatRoomId, chatRoomId), eq(messages.clientId, clientId)));
  return row;
}

export interface MessagePageQuery {
  chatRoomId: number;
  limit: number;
  /** Only messages older than this sequence number (page backwards). */
  beforeSeq?: number | undefined;
  /** Only messages newer than this sequence number (catch up). */
  afterSeq?: number | undefined;
}

export interface MessagePage {
  /** Oldest first. */
  messages: Message[];
  /** Pass as `beforeSeq` for the previous page; undefined when there is none. */
  nextBeforeSeq: number | undefined;
}

/**
 * One page of a room's messages, oldest first. Without `afterSeq` it is the newest `limit`
 * messages (before `beforeSeq` if given); with `afterSeq`, the oldest `limit` after it.
 */
export async function listMessages(db: Executor, query: MessagePageQuery): Promise<MessagePage> {
  const conditions = [eq(messages.chatRoomId, query.chatRoomId)];
  if (query.beforeSeq !== undefined) conditions.push(lt(messages.seq, query.beforeSeq));
  if (query.afterSeq !== undefined) conditions.push(gt(messages.seq, query.afterSeq));
  const forward = query.afterSeq !== undefined;
  const rows = await db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(query.limit + 1);
  const hasMore = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  if (!forward) page.reverse();
  const oldest = page[0];
  const olderExists = forward ? oldest !== undefined && oldest.seq > 1 : hasMore;
  return { messages: page, nextBeforeSeq: olderExists && oldest ? oldest.seq : undefined };
}

/** The most recent messages of a room, oldest first: a conversation's working memory. */
export async function recentMessages(
  db: Executor,
  chatRoomId: number,
  limit: number,
): Promise<Message[]> {
  return (await listMessages(db, { chatRoomId, limit })).messages;
}

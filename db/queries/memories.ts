import { and, asc, desc, eq, gt, isNotNull, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import {
  type ChatRoom,
  chatRooms,
  type Memory,
  type Message,
  memories,
  messages,
} from '../schema.js';
import { vectorSql } from './knowledge.js';

/** A memory as the API and the prompt see it: no embedding. */
export type MemoryItem = Omit<Memory, 'embedding'>;

const itemColumns = {
  id: memories.id,
  chatRoomId: memories.chatRoomId,
  userId: memories.userId,
  text: memories.text,
  sourceMessageIds: memories.sourceMessageIds,
  createdAt: memories.createdAt,
  updatedAt: memories.updatedAt,
};

/** A room's memories, newest first. */
export async function listMemories(db: Executor, chatRoomId: number): Promise<MemoryItem[]> {
  return db
    .select(itemColumns)
    .from(memories)
    .where(eq(memories.chatRoomId, chatRoomId))
    .orderBy(desc(memories.updatedAt), desc(memories.id));
}

/** The messages of a room not yet distilled, oldest first, at most `limit`. */
export async function undistilledMessages(
  db: Executor,
  room: Pick<ChatRoom, 'id' | 'memorySeq'>,
  limit: number,
): Promise<Message[]> {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.chatRoomId, room.id), gt(messages.seq, room.memorySeq)))
    .orderBy(asc(messages.seq))
    .limit(limit);
}

export interface NewMemory {
  text: string;
  sourceMessageIds: number[];
  embedding: number[] | undefined;
}

/**
 * Stores what one distillation found and marks the room distilled up to `toSeq`, in one
 * transaction, only if the room was still at `fromSeq`: a second distillation of the same
 * messages (another process, a retry) stores nothing. Returns whether this one counted.
 */
export async function saveDistillation(
  db: Executor,
  params: {
    room: Pick<ChatRoom, 'id' | 'userId'>;
    fromSeq: number;
    toSeq: number;
    found: NewMemory[];
  },
): Promise<boolean> {
  const { room, fromSeq, toSeq, found } = params;
  return db.transaction(async (tx) => {
    const advanced = await tx
      .update(chatRooms)
      .set({ memorySeq: toSeq })
      .where(and(eq(chatRooms.id, room.id), eq(chatRooms.memorySeq, fromSeq)))
      .returning({ id: chatRooms.id });
    if (advanced.length === 0) return false;
    if (found.length > 0) {
      await tx.insert(memories).values(
        found.map((memory) => ({
          chatRoomId: room.id,
          userId: room.userId,
          text: memory.text,
          sourceMessageIds: memory.sourceMessageIds,
          embedding: memory.embedding === undefined ? null : vectorSql(memory.embedding),
        })),
      );
    }
    return true;
  });
}

/**
 * What recall may read: the room's memories, only while its memory is on, and only its own
 * user's (a memory is written with the room's user; checked again here, never trusted).
 */
function recallable(chatRoomId: number) {
  return and(
    eq(memories.chatRoomId, chatRoomId),
    sql`exists (select 1 from ${chatRooms} where ${chatRooms.id} = ${memories.chatRoomId}
      and ${chatRooms.userId} = ${memories.userId} and ${chatRooms.memoryEnabled})`,
  );
}

/** The `limit` most recently written or corrected memories recall may use. */
export async function recentMemories(
  db: Executor,
  chatRoomId: number,
  limit: number,
): Promise<MemoryItem[]> {
  return db
    .select(itemColumns)
    .from(memories)
    .where(recallable(chatRoomId))
    .orderBy(desc(memories.updatedAt), desc(memories.id))
    .limit(limit);
}

/** The `limit` memories closest to `embedding` (cosine), with their similarity. */
export async function similarMemories(
  db: Executor,
  query: { chatRoomId: number; embedding: number[]; limit: number },
): Promise<(MemoryItem & { similarity: number })[]> {
  const distance = sql<number>`${memories.embedding} <=> ${vectorSql(query.embedding)}`;
  const rows = await db
    .select({ ...itemColumns, distance })
    .from(memories)
    .where(and(recallable(query.chatRoomId), isNotNull(memories.embedding)))
    .orderBy(distance)
    .limit(query.limit);
  return rows.map(({ distance: d, ...row }) => ({ ...row, similarity: 1 - Number(d) }));
}

/** Corrects a memory's text (and its embedding); undefined when the room has no such memory. */
export async function updateMemory(
  db: Executor,
  params: { chatRoomId: number; id: number; text: string; embedding: number[] | undefined },
): Promise<MemoryItem | undefined> {
  const [row] = await db
    .update(memories)
    .set({
      text: params.text,
      embedding: params.embedding === undefined ? null : vectorSql(params.embedding),
      updatedAt: sql`now()`,
    })
    .where(and(eq(memories.chatRoomId, params.chatRoomId), eq(memories.id, params.id)))
    .returning(itemColumns);
  return row;
}

/** Deletes one memory of a room; false when the room has no such memory. */
export async function deleteMemory(
  db: Executor,
  params: { chatRoomId: number; id: number },
): Promise<boolean> {
  const rows = await db
    .delete(memories)
    .where(and(eq(memories.chatRoomId, params.chatRoomId), eq(memories.id, params.id)))
    .returning({ id: memories.id });
  return rows.length > 0;
}

/** Turns memory on or off for a room; the room as it now is. */
export async function setRoomMemory(
  db: Executor,
  params: { chatRoomId: number; enabled: boolean },
): Promise<ChatRoom | undefined> {
  const [row] = await db
    .update(chatRooms)
    .set({ memoryEnabled: params.enabled })
    .where(eq(chatRooms.id, params.chatRoomId))
    .returning();
  return row;
}

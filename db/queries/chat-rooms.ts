import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type ChatRoom, chatRoomMembers, chatRooms } from '../schema.js';

/**
 * The room where a user talks to a character, created with its membership on first use.
 * Concurrent first uses get the same room (unique on user and character). A returning user
 * costs one read: a room and its membership are only ever created together.
 */
export async function getOrCreateChatRoom(
  db: Executor,
  params: { userId: string; characterId: string },
): Promise<ChatRoom> {
  const existing = await findRoom(db, params);
  if (existing !== undefined) return existing;
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(chatRooms)
      .values(params)
      .onConflictDoNothing({ target: [chatRooms.userId, chatRooms.characterId] })
      .returning();
    const room = created ?? (await findRoom(tx, params));
    if (room === undefined) throw new Error('chat room vanished after a conflict');
    await tx
      .insert(chatRoomMembers)
      .values({ chatRoomId: room.id, userId: params.userId })
      .onConflictDoNothing();
    return room;
  });
}

async function findRoom(
  db: Executor,
  params: { userId: string; characterId: string },
): Promise<ChatRoom | undefined> {
  const [row] = await db
    .select()
    .from(chatRooms)
    .where(and(eq(chatRooms.userId, params.userId), eq(chatRooms.characterId, params.characterId)));
  return row;
}

export async function getChatRoom(db: Executor, id: number): Promise<ChatRoom | undefined> {
  const [row] = await db.select().from(chatRooms).where(eq(chatRooms.id, id));
  return row;
}

/** The room, if `userId` is one of its members; undefined for unknown and foreign rooms alike. */
export async function getChatRoomForMember(
  db: Executor,
  params: { chatRoomId: number; userId: string },
): Promise<ChatRoom | undefined> {
  const [row] = await db
    .select({ room: chatRooms })
    .from(chatRooms)
    .innerJoin(chatRoomMembers, eq(chatRoomMembers.chatRoomId, chatRooms.id))
    .where(and(eq(chatRooms.id, params.chatRoomId), eq(chatRoomMembers.userId, params.userId)));
  return row?.room;
}

/** A user's rooms, most recently active first. */
export async function listChatRoomsOfUser(db: Executor, userId: string): Promise<ChatRoom[]> {
  const rows = await db
    .select({ room: chatRooms })
    .from(chatRooms)
    .innerJoin(chatRoomMembers, eq(chatRoomMembers.chatRoomId, chatRooms.id))
    .where(eq(chatRoomMembers.userId, userId))
    .orderBy(desc(chatRooms.updatedAt), desc(chatRooms.id));
  return rows.map((row) => row.room);
}

/**
 * Deletes a room its owner (the room's own user, not any member) no longer wants; its
 * memberships, messages and memories go with it (foreign keys cascade). Returns the deleted
 * room, or undefined when there is no such room of that user.
 */
export async function deleteOwnChatRoom(
  db: Executor,
  params: { chatRoomId: number; userId: string },
): Promise<ChatRoom | undefined> {
  const [row] = await db
    .delete(chatRooms)
    .where(and(eq(chatRooms.id, params.chatRoomId), eq(chatRooms.userId, params.userId)))
    .returning();
  return row;
}

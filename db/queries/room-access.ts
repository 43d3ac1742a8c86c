import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type ChatRoom, characters, chatRoomMembers, chatRooms } from '../schema.js';
import type { CharacterVisibility } from './characters.js';

/** What decides whether a user may talk in a room, read in one query. */
export interface RoomAccess {
  room: ChatRoom;
  /** Whether the user asked about is a member of the room. */
  member: boolean;
  /** The room's character, as far as visibility goes. */
  character: CharacterVisibility;
}

/** The room with its character's visibility and the user's membership; undefined: no room. */
export async function readRoomAccess(
  db: Executor,
  params: { chatRoomId: number; userId: string },
): Promise<RoomAccess | undefined> {
  const [row] = await db
    .select({
      room: chatRooms,
      memberId: chatRoomMembers.userId,
      isPublic: characters.isPublic,
      ownerId: characters.ownerId,
    })
    .from(chatRooms)
    .innerJoin(characters, eq(characters.id, chatRooms.characterId))
    .leftJoin(
      chatRoomMembers,
      and(eq(chatRoomMembers.chatRoomId, chatRooms.id), eq(chatRoomMembers.userId, params.userId)),
    )
    .where(eq(chatRooms.id, params.chatRoomId));
  if (row === undefined) return undefined;
  return {
    room: row.room,
    member: row.memberId !== null,
    character: { isPublic: row.isPublic, ownerId: row.ownerId },
  };
}

/** The members and character visibility of many rooms at once, for re-checking open ones. */
export async function readRoomsAccess(
  db: Executor,
  chatRoomIds: number[],
): Promise<Map<number, { members: Set<string>; character: CharacterVisibility }>> {
  const found = new Map<number, { members: Set<string>; character: CharacterVisibility }>();
  if (chatRoomIds.length === 0) return found;
  const rows = await db
    .select({
      chatRoomId: chatRooms.id,
      memberId: chatRoomMembers.userId,
      isPublic: characters.isPublic,
      ownerId: characters.ownerId,
    })
    .from(chatRooms)
    .innerJoin(characters, eq(characters.id, chatRooms.characterId))
    .leftJoin(chatRoomMembers, eq(chatRoomMembers.chatRoomId, chatRooms.id))
    .where(inArray(chatRooms.id, chatRoomIds));
  for (const row of rows) {
    let entry = found.get(row.chatRoomId);
    if (entry === undefined) {
      entry = { members: new Set(), character: { isPublic: row.isPublic, ownerId: row.ownerId } };
      found.set(row.chatRoomId, entry);
    }
    if (row.memberId !== null) entry.members.add(row.memberId);
  }
  return found;
}

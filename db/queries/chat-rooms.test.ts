import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { getChatRoomForMember, getOrCreateChatRoom, listChatRoomsOfUser } from './chat-rooms.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('chat rooms', () => {
  it('gets the same room for a user and character, even on concurrent first use', async () => {
    const user = await makeUser(database.db);
    const character = await makeCharacter(database.db, user);
    const rooms = await Promise.all(
      Array.from({ length: 5 }, () =>
        getOrCreateChatRoom(database.db, { userId: user.id, characterId: character.id }),
      ),
    );
    expect(new Set(rooms.map((r) => r.id)).size).toBe(1);
    expect((await listChatRoomsOfUser(database.db, user.id)).map((r) => r.id)).toEqual([
      rooms[0]?.id,
    ]);
  });

  it('gives a room only to its members', async () => {
    const alice = await makeUser(database.db, 'Alice');
    const bob = await makeUser(database.db, 'Bob');
    const character = await makeCharacter(database.db, alice, { isPublic: true });
    const room = await getOrCreateChatRoom(database.db, {
      userId: alice.id,
      characterId: character.id,
    });
    expect(
      (await getChatRoomForMember(database.db, { chatRoomId: room.id, userId: alice.id }))?.id,
    ).toBe(room.id);
    expect(
      await getChatRoomForMember(database.db, { chatRoomId: room.id, userId: bob.id }),
    ).toBeUndefined();
    expect(await listChatRoomsOfUser(database.db, bob.id)).toEqual([]);
    const bobsRoom = await getOrCreateChatRoom(database.db, {
      userId: bob.id,
      characterId: character.id,
    });
    expect(bobsRoom.id).not.toBe(room.id);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { updateOwnCharacter } from '../../db/queries/characters.js';
import { getChatRoomForMember } from '../../db/queries/chat-rooms.js';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import type { AuthUser } from '../auth/verifier.js';
import { createRoomLookup } from './room-lookup.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());
afterEach(() => {
  vi.useRealTimers();
});

async function errorCode(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

function authUser(id: string): AuthUser {
  return { id, role: 'authenticated', isAnonymous: false };
}

type RoomLookup = ReturnType<typeof createRoomLookup>;

/** A caller's lookup has seen the owner's public character; then the owner makes it private. */
async function makePrivateAfterUse(lookup: RoomLookup) {
  const owner = await makeUser(database.db, 'Owner');
  const caller = await makeUser(database.db, 'Caller');
  const mira = await makeCharacter(database.db, owner, { isPublic: true });
  await lookup.roomWithCharacter(caller.id, mira.id);
  await updateOwnCharacter(database.db, {
    id: mira.id,
    ownerId: owner.id,
    patch: { isPublic: false },
  });
  return { owner, caller, mira };
}

describe('room lookup', () => {
  it("never gives one user another user's room, however often each asks", async () => {
    const lookup = createRoomLookup(database.db);
    const alice = await makeUser(database.db, 'Alice');
    const bob = await makeUser(database.db, 'Bob');
    const mira = await makeCharacter(database.db, alice, { isPublic: true });
    const asked = [alice, bob, alice, bob, bob, alice];
    const rooms = [];
    for (const user of asked) rooms.push(await lookup.roomWithCharacter(user.id, mira.id));
    rooms.forEach((room, i) => {
      expect(room.userId).toBe(asked[i]?.id);
      expect(room.characterId).toBe(mira.id);
    });
    const [alicesRoom, bobsRoom] = rooms;
    expect(alicesRoom?.id).not.toBe(bobsRoom?.id);
    expect(new Set(rooms.map((room) => room.id)).size).toBe(2);
    for (const room of [alicesRoom, bobsRoom]) {
      if (room === undefined) throw new Error('no room');
      const member = await getChatRoomForMember(database.db, {
        chatRoomId: room.id,
        userId: room.userId,
      });
      expect(member?.id).toBe(room.id);
    }
  });

  it("refuses someone else's private character, and its owner's room stays the owner's", async () => {
    const lookup = createRoomLookup(database.db);
    const owner = await makeUser(database.db, 'Owner');
    const stranger = await makeUser(database.db, 'Stranger');
    const secret = await makeCharacter(database.db, owner, { isPublic: false });
    const ownersRoom = await lookup.roomWithCharacter(owner.id, secret.id);
    expect(ownersRoom.userId).toBe(owner.id);
    expect(await errorCode(lookup.roomWithCharacter(stranger.id, secret.id))).toBe(
      'CHARACTER.NOT_FOUND',
    );
    expect(await errorCode(lookup.roomWithCharacter(owner.id, crypto.randomUUID()))).toBe(
      'CHARACTER.NOT_FOUND',
    );
  });

  it('stops serving a character made private once its visibility is older than the TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const lookup = createRoomLookup(database.db, { characterTtlMs: 5_000 });
    const { owner, caller, mira } = await makePrivateAfterUse(lookup);
    // Within the TTL the remembered visibility still holds: the documented price of the cache.
    vi.setSystemTime(Date.now() + 4_000);
    expect(await errorCode(lookup.roomWithCharacter(caller.id, mira.id))).toBe('ok');
    vi.setSystemTime(Date.now() + 2_000);
    expect(await errorCode(lookup.roomWithCharacter(caller.id, mira.id))).toBe(
      'CHARACTER.NOT_FOUND',
    );
    expect(await errorCode(lookup.roomWithCharacter(owner.id, mira.id))).toBe('ok');
  });

  it('refuses a character made private at once when told it changed', async () => {
    const lookup = createRoomLookup(database.db, { characterTtlMs: 60_000 });
    const { owner, caller, mira } = await makePrivateAfterUse(lookup);
    lookup.forgetCharacter(mira.id);
    expect(await errorCode(lookup.roomWithCharacter(caller.id, mira.id))).toBe(
      'CHARACTER.NOT_FOUND',
    );
    expect(await errorCode(lookup.roomWithCharacter(owner.id, mira.id))).toBe('ok');
  });

  it("gives each user their own profile's display name", async () => {
    const lookup = createRoomLookup(database.db);
    const ada = await makeUser(database.db, 'Ada');
    const grace = await makeUser(database.db, 'Grace');
    for (let i = 0; i < 2; i += 1) {
      expect(await lookup.displayName(authUser(ada.id))).toBe('Ada');
      expect(await lookup.displayName(authUser(grace.id))).toBe('Grace');
    }
    const unknown = crypto.randomUUID();
    expect(await lookup.displayName(authUser(unknown))).toBe(`user-${unknown.slice(0, 8)}`);
  });
});

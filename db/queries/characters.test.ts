import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import {
  canSeeCharacter,
  getCharacter,
  listVisibleCharacters,
  updateOwnCharacter,
} from './characters.js';
import { getOrCreateProfile } from './profiles.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('profiles', () => {
  it('creates a profile on first use and returns the same one after', async () => {
    const seed = {
      id: '1f0c7a52-6f0e-4d0b-9a39-2b8f7f3c1a11',
      displayName: 'Ada',
      accountName: 'ada',
    };
    const [a, b] = await Promise.all([
      getOrCreateProfile(database.db, seed),
      getOrCreateProfile(database.db, { ...seed, displayName: 'Someone else' }),
    ]);
    expect(a?.id).toBe(seed.id);
    expect(b?.displayName).toBe(a?.displayName);
  });
});

describe('characters', () => {
  it('lists public characters and the caller’s own, never others’ private ones', async () => {
    const alice = await makeUser(database.db, 'Alice');
    const bob = await makeUser(database.db, 'Bob');
    const alicePrivate = await makeCharacter(database.db, alice, { name: 'Secret' });
    const alicePublic = await makeCharacter(database.db, alice, { name: 'Open', isPublic: true });
    const bobOwn = await makeCharacter(database.db, bob, { name: 'Bobby' });

    const visibleToBob = (await listVisibleCharacters(database.db, bob.id)).map((c) => c.id);
    expect(visibleToBob).toContain(alicePublic.id);
    expect(visibleToBob).toContain(bobOwn.id);
    expect(visibleToBob).not.toContain(alicePrivate.id);
    expect(canSeeCharacter(alicePrivate, bob.id)).toBe(false);
    expect(canSeeCharacter(alicePrivate, alice.id)).toBe(true);
  });

  it('updates only the owner’s character', async () => {
    const alice = await makeUser(database.db, 'Alice');
    const bob = await makeUser(database.db, 'Bob');
    const mira = await makeCharacter(database.db, alice);
    const byBob = await updateOwnCharacter(database.db, {
      id: mira.id,
      ownerId: bob.id,
      patch: { name: 'Stolen' },
    });
    expect(byBob).toBeUndefined();
    const byAlice = await updateOwnCharacter(database.db, {
      id: mira.id,
      ownerId: alice.id,
      patch: { name: 'Mira II' },
    });
    expect(byAlice?.name).toBe('Mira II');
    expect((await getCharacter(database.db, mira.id))?.name).toBe('Mira II');
  });
});

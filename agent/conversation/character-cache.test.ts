import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateOwnCharacter } from '../../db/queries/characters.js';
import { characters } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { CharacterCache } from './character-cache.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

/** The cache reads Mira; then her owner renames her Vega behind its back. */
async function readThenRename(cache: CharacterCache) {
  const owner = await makeUser(database.db);
  const character = await makeCharacter(database.db, owner, { name: 'Mira' });
  expect((await cache.get(character.id)).name).toBe('Mira');
  await updateOwnCharacter(database.db, {
    id: character.id,
    ownerId: owner.id,
    patch: { name: 'Vega' },
  });
  return character;
}

describe('CharacterCache', () => {
  it('serves a read character until its time is up, then reads the edit', async () => {
    let now = 1_000;
    const cache = new CharacterCache({ db: database.db, ttlMs: 5_000, now: () => now });
    const character = await readThenRename(cache);
    now = 6_000;
    expect((await cache.get(character.id)).name).toBe('Mira');
    now = 6_001;
    expect((await cache.get(character.id)).name).toBe('Vega');
  });

  it('reads an edit at once when told the character was forgotten', async () => {
    const cache = new CharacterCache({ db: database.db, ttlMs: 60_000 });
    const character = await readThenRename(cache);
    expect((await cache.get(character.id)).name).toBe('Mira');
    cache.forget(character.id);
    expect((await cache.get(character.id)).name).toBe('Vega');
  });

  it('answers a read under way when its character is forgotten, but does not keep it', async () => {
    const cache = new CharacterCache({ db: database.db, ttlMs: 60_000 });
    const owner = await makeUser(database.db);
    const character = await makeCharacter(database.db, owner, { name: 'Mira' });
    const underWay = cache.get(character.id);
    cache.forget(character.id);
    expect((await underWay).name).toBe('Mira');
    await updateOwnCharacter(database.db, {
      id: character.id,
      ownerId: owner.id,
      patch: { name: 'Vega' },
    });
    expect((await cache.get(character.id)).name).toBe('Vega');
  });

  it('reports a missing character, and does not remember that it was missing', async () => {
    const cache = new CharacterCache({ db: database.db, ttlMs: 60_000 });
    const id = randomUUID();
    await expect(cache.get(id)).rejects.toMatchObject({ code: 'CHARACTER.NOT_FOUND' });
    const owner = await makeUser(database.db);
    await database.db
      .insert(characters)
      .values({ id, ownerId: owner.id, name: 'Late', instructions: 'Arrives late.' });
    expect((await cache.get(id)).id).toBe(id);
  });
});

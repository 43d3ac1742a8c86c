import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;
let alice: { authorization: string };
let bob: { authorization: string };
let viewer: { authorization: string };
const ids: Record<string, string> = {};

async function create(headers: { authorization: string }, payload: object): Promise<string> {
  const response = await t.app.inject({ method: 'POST', url: '/api/characters', headers, payload });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

async function talk(headers: { authorization: string }, characterId: string): Promise<void> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/chat-rooms',
    headers,
    payload: { character_id: characterId },
  });
  expect(response.statusCode).toBeLessThan(300);
}

function gallery(query: string, headers = viewer) {
  return t.app.inject({ url: `/api/characters?public=true&${query}`, headers });
}

const names = (response: { json(): { name: string }[] }) => response.json().map((c) => c.name);

beforeAll(async () => {
  t = await startTestApp();
  alice = bearer(await t.token());
  bob = bearer(await t.token());
  viewer = bearer(await t.token());
  ids.old = await create(alice, { name: 'Old Sage', instructions: 'x', is_public: true });
  ids.loved = await create(bob, {
    name: 'Loved Pirate',
    instructions: 'x',
    is_public: true,
    description: 'Talks like a 100% pirate',
  });
  ids.hidden = await create(alice, { name: 'Hidden Diary', instructions: 'x' });
  ids.mine = await create(viewer, { name: 'My Own', instructions: 'x', is_public: true });
  await talk(alice, ids.loved);
  await talk(viewer, ids.loved);
  await talk(bob, ids.old);
});
afterAll(() => t.close());

describe('the gallery', () => {
  it('lists only other people’s public characters, most conversations first', async () => {
    const response = await gallery('sort=popular');
    expect(response.statusCode).toBe(200);
    expect(names(response)).toEqual(['Loved Pirate', 'Old Sage']);
    expect(response.json()[0]).toMatchObject({ conversations: 2, is_own: false });
    expect(response.json()[0].description).toBe('Talks like a 100% pirate');
    expect(response.json()[0].instructions).toBeUndefined();
  });

  it('never shows a private character, even to a search for its name', async () => {
    expect(names(await gallery('q=Hidden'))).toEqual([]);
    expect(names(await gallery('q=diary', bob))).toEqual([]);
    expect(names(await gallery('q=', alice))).toEqual(['Loved Pirate', 'My Own']);
  });

  it('searches names and descriptions, with % taken literally', async () => {
    expect(names(await gallery('q=sage'))).toEqual(['Old Sage']);
    expect(names(await gallery(`q=${encodeURIComponent('100%')}`))).toEqual(['Loved Pirate']);
    expect(names(await gallery(`q=${encodeURIComponent('%')}`))).toEqual(['Loved Pirate']);
  });

  it('pages by limit and offset, newest first with sort=new', async () => {
    const first = await gallery('sort=new&limit=1');
    const second = await gallery('sort=new&limit=1&offset=1');
    const third = await gallery('sort=new&limit=1&offset=2');
    expect([...names(first), ...names(second), ...names(third)]).toEqual([
      'Loved Pirate',
      'Old Sage',
    ]);
    expect((await gallery('limit=51')).statusCode).toBe(400);
  });

  it('without public=true still lists the caller’s own and public characters', async () => {
    const all = await t.app.inject({ url: '/api/characters', headers: alice });
    expect(names(all)).toEqual(expect.arrayContaining(['Hidden Diary', 'Old Sage', 'My Own']));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentText } from '../dev-tools/providers/openai-chat.js';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { type ChatClient, connectChat, ofType } from './ws-client.js';

/**
 * An owner who edits a character expects the very next turn to use the edit: the process
 * that took the edit drops what it remembered of the character at once (within its 5 s
 * cache lifetime a turn would otherwise still get the old persona).
 */
let t: TestApp;
let base: string;
let ownerToken: string;

beforeAll(async () => {
  t = await startTestApp();
  base = await t.listen();
  ownerToken = await t.token();
});
afterAll(() => t?.close());

async function createCharacter(payload: object): Promise<string> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/characters',
    headers: bearer(ownerToken),
    payload,
  });
  expect(created.statusCode).toBe(201);
  return created.json().id;
}

async function edit(characterId: string, payload: object) {
  const edited = await t.app.inject({
    method: 'PATCH',
    url: `/api/characters/${characterId}`,
    headers: bearer(ownerToken),
    payload,
  });
  expect(edited.statusCode).toBe(200);
}

async function turn(client: ChatClient, clientId: string, text: string) {
  client.send({ type: 'message', client_id: clientId, text });
  const done = await Promise.race([
    client.next(ofType('message', { role: 'character', client_id: clientId })),
    client.next(ofType('error', { client_id: clientId })),
  ]);
  expect(done.type).toBe('message');
}

/** The system messages of the LLM request that answered `text`. */
function systemPromptFor(text: string): string {
  const request = t.brain.emulator.requests.chatCompletions.findLast((r) =>
    r.messages.some((m) => m.role === 'user' && contentText(m.content).includes(text)),
  );
  if (request === undefined) throw new Error(`no LLM request answered “${text}”`);
  return request.messages
    .filter((m) => m.role === 'system')
    .map((m) => contentText(m.content))
    .join('\n');
}

describe('an edited character', () => {
  it('reaches the next turn of a socket that stayed open, at once', async () => {
    const characterId = await createCharacter({
      name: 'Lyra',
      instructions: 'You are Lyra, a gardener.',
      language: 'en',
    });
    const socket = connectChat(`${base}/ws/chat?character_id=${characterId}`, {
      token: ownerToken,
    });
    await socket.next(ofType('ready'));
    await turn(socket, 'before', 'what do you do?');
    expect(systemPromptFor('what do you do?')).toContain('You are Lyra, a gardener.');

    await edit(characterId, {
      instructions: 'You are Lyra, who keeps the lighthouse.',
      language: 'de',
    });
    await turn(socket, 'after', 'and now?');
    const system = systemPromptFor('and now?');
    expect(system).toContain('You are Lyra, who keeps the lighthouse.');
    expect(system).not.toContain('a gardener');
    expect(system).toContain('language with code "de"');
    socket.socket.close();
  });

  it('greets a new conversation with the greeting just saved', async () => {
    const characterId = await createCharacter({
      name: 'Nox',
      instructions: 'You are Nox, an owl.',
      greeting: 'Hello.',
      is_public: true,
    });
    // A first conversation makes the process remember the character.
    const first = connectChat(`${base}/ws/chat?character_id=${characterId}`, {
      token: await t.token(),
    });
    await first.next(ofType('message', { role: 'character', text: 'Hello.' }));
    first.socket.close();

    await edit(characterId, { greeting: 'Hoo is there?' });
    const next = connectChat(`${base}/ws/chat?character_id=${characterId}`, {
      token: await t.token(),
    });
    const greeting = await next.next(ofType('message', { role: 'character' }));
    expect(greeting.text).toBe('Hoo is there?');
    next.socket.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { type ChatCompletionRequest, contentText } from '../dev-tools/providers/openai-chat.js';
import { isMemoryRequest } from '../dev-tools/providers/openai-memories.js';
import {
  createCharacter,
  type DirectTestApp,
  devSession,
  startDirectTestApp,
  until,
} from './direct-app.js';
import { type Caller, call, SERVER_LOOPBACK } from './werift-caller.js';

/** Said aloud in the call; every word is in pocketsphinx's dictionary. */
const FACT = { question: 'My favorite color is green', answer: 'I will keep that in mind.' };
/** Typed in the next session. */
const QUESTION = 'What is my favorite color?';
const RECALLED = 'Green, you told me so.';
const NOT_KNOWN = 'I do not know your favorite color.';
const REMEMBERED = /favorite color is green/i;

const isMemories = (text: string) => text.startsWith('<memories>');

/**
 * The emulated model: answers the fact with its scripted answer, and the question from what
 * its prompt's `<memories>` block says, so the reply recalls the colour only when the memory
 * reached the prompt.
 */
function reply(request: ChatCompletionRequest): string {
  const texts = request.messages.map((m) => contentText(m.content));
  const asked = normalizePhrase(
    contentText(request.messages.findLast((m) => m.role === 'user')?.content),
  );
  if (asked === normalizePhrase(FACT.question)) return FACT.answer;
  if (asked !== normalizePhrase(QUESTION)) return 'Hello.';
  return texts.some((text) => isMemories(text) && REMEMBERED.test(text)) ? RECALLED : NOT_KNOWN;
}

let parley: DirectTestApp;
const callers: Caller[] = [];

// Two messages of history: by the text session the call's words are out of the prompt's
// history (a filler turn pushes them out), so only a memory can bring the fact back.
beforeAll(async () => {
  parley = await startDirectTestApp({
    exchanges: [FACT],
    reply,
    peer: SERVER_LOOPBACK,
    env: { HISTORY_MESSAGES: '2' },
  });
});
afterAll(async () => {
  await Promise.all(callers.map((caller) => caller.browser.close()));
  await parley?.close();
});

/** Calls the API as the page does; `T` is the body the caller expects (its asserts check it). */
async function api<T = unknown>(token: string, method: string, path: string, body?: object) {
  const response = await fetch(`${parley.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

interface MessageView {
  id: number;
  role: string;
  text: string;
}

interface MemoryView {
  id: number;
  text: string;
  source_message_ids: number[];
}

/** Polls the room's memories through the API until one matches (distillation follows the hang-up). */
async function memoryOf(token: string, chatRoomId: number): Promise<MemoryView> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const path = `/api/chat-rooms/${chatRoomId}/memories`;
    const { body } = await api<MemoryView[]>(token, 'GET', path);
    const found = body.find((m) => REMEMBERED.test(m.text));
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no memory matching ${REMEMBERED} in room ${chatRoomId}`);
}

/** The prompt of the character's latest reply (not a distillation request). */
function lastReplyPrompt(): string[] {
  const replies = parley.openai.requests.chatCompletions.filter((r) => !isMemoryRequest(r));
  return (replies.at(-1)?.messages ?? []).map((m) => contentText(m.content));
}

describe('memory from a direct voice call', () => {
  it('distils the fact said in a call once it ends; a new text session recalls it until it is deleted', async () => {
    const { token } = await devSession(parley.baseUrl);
    const characterId = await createCharacter(parley.baseUrl, token, 'Rememberer');

    const caller = await call(parley.baseUrl, token, `character_id=${characterId}`);
    callers.push(caller);
    await caller.say(FACT.question);
    await until(
      'the answer',
      () => caller.finalCaptions().some((c) => c.role === 'character' && c.text === FACT.answer),
      120_000,
    );
    await caller.hangUp();
    const roomId = caller.chatRoomId;

    // Hanging up ends the call: it is distilled then, citing the stored message it came from.
    const memory = await memoryOf(token, roomId);
    const { body: page } = await api<{ messages: MessageView[] }>(
      token,
      'GET',
      `/api/chat-rooms/${roomId}/messages`,
    );
    const said = page.messages.find((m) => m.role === 'user' && REMEMBERED.test(m.text));
    expect(said).toBeDefined();
    expect(memory.source_message_ids).toEqual([said?.id]);

    // A new session, typed: a filler turn pushes the call out of the history.
    const chat = (message: string) =>
      api(token, 'POST', '/api/chat', { chat_room_id: roomId, message });
    expect((await chat('Hello there.')).status).toBe(200);
    const recalled = await chat(QUESTION);
    expect(recalled).toMatchObject({ status: 200, body: { ai_response: RECALLED } });
    const prompt = lastReplyPrompt();
    expect(prompt.filter(isMemories).join('\n')).toMatch(REMEMBERED);
    expect(prompt.filter((text) => !isMemories(text)).join('\n')).not.toMatch(REMEMBERED);

    const removed = await api(token, 'DELETE', `/api/chat-rooms/${roomId}/memories/${memory.id}`);
    expect(removed.status).toBe(204);
    const forgotten = await chat(QUESTION);
    expect(forgotten).toMatchObject({ status: 200, body: { ai_response: NOT_KNOWN } });
    expect(lastReplyPrompt().join('\n')).not.toMatch(REMEMBERED);
  }, 300_000);
});

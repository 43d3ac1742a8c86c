import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentText } from '../dev-tools/providers/openai-chat.js';
import { isMemoryRequest } from '../dev-tools/providers/openai-memories.js';
import { rowsOf } from '../helpers/database.js';
import { type DirectTestApp, startDirectTestApp } from './direct-app.js';
import { createCharacter, launchChromium, screenshot, signedInPage } from './page-chromium.js';

/** Typed in the page; the emulated model distils each statement into one memory. */
const COLOR = { question: 'My favorite color is green.', answer: 'Green it is.' };
const CITY = { question: 'I live in Lisbon.', answer: 'Lisbon is lovely.' };
const ASK = { question: 'What do you remember about me?', answer: 'Quite a lot.' };
const PET = { question: 'I have a cat named Miso.', answer: 'Hello, Miso.' };
/** What the user writes over the distilled COLOR memory in the panel. */
const CORRECTED = 'The user now prefers teal to every other color.';

let parley: DirectTestApp;
let browser: Browser;

// A text chat is distilled once it is quiet for MEMORY_IDLE_MS: one second here.
beforeAll(async () => {
  parley = await startDirectTestApp({
    exchanges: [COLOR, CITY, ASK, PET],
    env: { MEMORY_IDLE_MS: '1000' },
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.close();
});

async function say(page: Page, exchange: { question: string; answer: string }) {
  await page.fill('#composer [name=text]', exchange.question);
  await page.click('#composer button[type=submit]');
  await page.locator('#history li.character', { hasText: exchange.answer }).waitFor();
}

/**
 * The memories the panel lists, refreshing it until there are `count` (distilling is async).
 * Counted once no load is in flight: a refresh still loading would replace the list (and an
 * edit typed into it) after this returned.
 */
async function listedMemories(page: Page, count: number): Promise<string[]> {
  const deadline = performance.now() + 120_000;
  const items = page.locator('#memory-list li input');
  const settled = page.locator('#memory-list:not([aria-busy])');
  const listed = async () => {
    await settled.waitFor({ state: 'attached' });
    return items.count();
  };
  while ((await listed()) !== count) {
    if (performance.now() > deadline) throw new Error(`the panel never listed ${count} memories`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await page.click('#memory-refresh');
  }
  return Promise.all((await items.all()).map((item) => item.inputValue()));
}

/** The page's own user's rooms, asked of the API as that user; and the headers to ask more. */
async function pageUserRooms(page: Page) {
  const userId = await page.evaluate(() => localStorage.getItem('parley.devUserId'));
  const session = await fetch(`${parley.baseUrl}/auth/dev/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: userId }),
  });
  const { access_token: token } = (await session.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${token}` };
  const rooms = (await (await fetch(`${parley.baseUrl}/api/chat-rooms`, { headers })).json()) as {
    id: number;
    memory_enabled: boolean;
  }[];
  return { headers, rooms };
}

/** What the API holds for the room, asked as the page's own user. */
async function storedMemories(page: Page): Promise<string[]> {
  const { headers, rooms } = await pageUserRooms(page);
  const texts: string[] = [];
  for (const room of rooms) {
    const url = `${parley.baseUrl}/api/chat-rooms/${room.id}/memories`;
    const memories = (await (await fetch(url, { headers })).json()) as { text: string }[];
    texts.push(...memories.map((memory) => memory.text));
  }
  return texts;
}

/**
 * Waits until the memory keeper has gone over every message of the page user's one room:
 * distilled it, or, with memory off, passed it by. Read from the database, which records how
 * far the keeper got; else "nothing was remembered" could be read before it even looked.
 */
async function keeperCaughtUp(page: Page): Promise<void> {
  const { rooms } = await pageUserRooms(page);
  expect(rooms).toHaveLength(1);
  const roomId = rooms[0]?.id ?? 0;
  const caughtUp = async () => {
    const result = await parley.database.db.execute(
      sql`select (select memory_seq from chat_rooms where id = ${roomId}) >=
        (select coalesce(max(seq), 0) from messages where chat_room_id = ${roomId}) as done`,
    );
    return rowsOf<{ done: boolean }>(result)[0]?.done;
  };
  await expect.poll(caughtUp, { timeout: 60_000, interval: 250 }).toBe(true);
}

/** The distillation requests the emulated model was sent that quote `text`, from `since` on. */
function distillationsQuoting(text: string, since: number): number {
  const asked = parley.openai.requests.chatCompletions.slice(since).filter(isMemoryRequest);
  return asked.filter((r) => r.messages.some((m) => contentText(m.content).includes(text))).length;
}

/** The `<memories>` block of the latest reply's prompt (not a distillation request). */
function promptMemories(): string {
  const replies = parley.openai.requests.chatCompletions.filter((r) => !isMemoryRequest(r));
  const texts = (replies.at(-1)?.messages ?? []).map((m) => contentText(m.content));
  return texts.filter((text) => text.startsWith('<memories>')).join('\n');
}

describe('the memories panel, in Chromium', () => {
  it('lists what a typed conversation left, deletes one, then forgets everything', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createCharacter(page, 'Mnemo', 'You are Mnemo, who remembers people.');
    await say(page, COLOR);
    await say(page, CITY);

    await page.locator('#memories summary').click();
    const listed = await listedMemories(page, 2);
    expect(listed.sort()).toEqual([
      `The user said: ${CITY.question}`,
      `The user said: ${COLOR.question}`,
    ]);
    await screenshot(page, 'memories-panel');

    await page.getByRole('button', { name: `Delete: The user said: ${CITY.question}` }).click();
    await page.locator('#memories [role=status]', { hasText: 'Forgotten.' }).waitFor();
    expect(await storedMemories(page), 'the API keeps only what the panel did not delete').toEqual([
      `The user said: ${COLOR.question}`,
    ]);
    await page.click('#memory-refresh');
    expect(await listedMemories(page, 1)).toEqual([`The user said: ${COLOR.question}`]);
    // The next reply is given what is left, and not what was deleted.
    await say(page, ASK);
    expect(promptMemories(), 'the reply’s prompt carries the memory left').toContain(
      COLOR.question,
    );
    expect(promptMemories(), 'the reply’s prompt leaves out the deleted memory').not.toContain(
      'Lisbon',
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#memory-forget-all');
    await page.locator('#memories [role=status]', { hasText: 'Forgot 1 memory.' }).waitFor();
    expect(await page.locator('#memory-list li').count()).toBe(0);
    expect(await storedMemories(page), 'Forget everything leaves the API nothing').toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);

  it('tells the next reply a corrected memory; with memory off keeps and recalls nothing', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createCharacter(page, 'Tessera', 'You are Tessera, who remembers people.');
    await say(page, COLOR);
    await page.locator('#memories summary').click();
    expect(await listedMemories(page, 1)).toEqual([`The user said: ${COLOR.question}`]);

    // Correct it in place and save.
    await page.locator('#memory-list li input').fill(CORRECTED);
    await page.locator('#memory-list li').getByRole('button', { name: 'Save' }).click();
    await page.locator('#memories [role=status]', { hasText: 'Saved.' }).waitFor();
    expect(await storedMemories(page), 'the API holds the corrected text').toEqual([CORRECTED]);
    await say(page, ASK);
    expect(promptMemories(), 'the next reply is told the correction').toContain(CORRECTED);
    expect(promptMemories(), 'and not what it corrected').not.toContain('green');

    // Memory off: the next reply is told nothing, and what is said is not kept.
    await page.uncheck('#memory-enabled');
    await page.locator('#memories [role=status]', { hasText: 'Memory off' }).waitFor();
    const { rooms } = await pageUserRooms(page);
    expect(
      rooms.map((room) => room.memory_enabled),
      'the room’s memory is off',
    ).toEqual([false]);
    // The other test said this too, in its own room: count only what is asked from now on.
    const asked = parley.openai.requests.chatCompletions.length;
    await say(page, CITY);
    expect(promptMemories(), 'with memory off nothing is recalled').toBe('');
    await keeperCaughtUp(page);
    expect(
      distillationsQuoting('Lisbon', asked),
      'what was said with memory off went to no model',
    ).toBe(0);
    expect(await storedMemories(page), 'nothing new kept with memory off').toEqual([CORRECTED]);

    // On again: recalled again, and new things are kept (but not what was said while off).
    await page.check('#memory-enabled');
    await page.locator('#memories [role=status]', { hasText: 'Memory on.' }).waitFor();
    await say(page, PET);
    expect(promptMemories(), 'with memory on again it is recalled').toContain(CORRECTED);
    await page.click('#memory-refresh');
    expect((await listedMemories(page, 2)).sort()).toEqual(
      [CORRECTED, `The user said: ${PET.question}`].sort(),
    );
    await screenshot(page, 'memories-corrected');
    expect(errors).toEqual([]);
  }, 300_000);
});

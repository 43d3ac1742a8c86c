import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectTestApp, devSession, startDirectTestApp } from './direct-app.js';
import { launchChromium, screenshot, signedInPage } from './page-chromium.js';

const exchange = { question: 'hello', answer: 'Hi, I am Vega. What shall we look at tonight?' };

let parley: DirectTestApp;
let browser: Browser;
let workDir: string;
let photo: string;
let notAnImage: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-gallery-'));
  photo = join(workDir, 'vega.png');
  const red = { r: 200, g: 30, b: 30 };
  await sharp({ create: { width: 640, height: 480, channels: 3, background: red } })
    .png()
    .toFile(photo);
  notAnImage = join(workDir, 'notes.png');
  await writeFile(notAnImage, 'this is text, whatever the name says');
  parley = await startDirectTestApp({ exchanges: [exchange] });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** Fills the page's character form; the picture goes in with the file chooser's input. */
async function createWithPicture(page: Page, name: string, picture?: string) {
  await page.locator('#new-character-panel summary').click();
  await page.fill('#new-character [name=name]', name);
  await page.fill('#new-character [name=instructions]', `You are ${name}, a stargazer.`);
  await page.fill('#new-character [name=description]', 'Knows every star by name');
  await page.check('#new-character [name=is_public]');
  if (picture !== undefined) await page.setInputFiles('#character-picture', picture);
  await page.click('#new-character button[type=submit]');
  await page.locator('#room-title', { hasText: name }).waitFor();
}

/** What the <img> shows: its decoded size and whether its centre is the photo's red. */
function shown(page: Page, selector: string) {
  return page.locator(selector).evaluate(async (element) => {
    const img = element as HTMLImageElement;
    if (!img.complete || img.naturalWidth === 0) {
      await new Promise((resolve) => img.addEventListener('load', resolve, { once: true }));
    }
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context?.drawImage(img, 0, 0);
    const centre = context?.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
    const [r = 0, g = 0, b = 0] = centre ?? [];
    const red = r > 150 && g < 80 && b < 80;
    return { width: img.naturalWidth, height: img.naturalHeight, red };
  });
}

/** A public character made through the API by the user of `token`; returns its id. */
async function publicCharacter(token: string, name: string): Promise<string> {
  const response = await fetch(`${parley.baseUrl}/api/characters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name,
      instructions: `You are ${name}, a navigator.`,
      description: 'Sails by the stars',
      is_public: true,
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** The user of `token` starts a conversation with the character: one more for `popular`. */
async function converse(token: string, characterId: string): Promise<void> {
  const response = await fetch(`${parley.baseUrl}/api/chat-rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ character_id: characterId }),
  });
  expect(response.ok).toBe(true);
}

/** The names the gallery lists now, in order. */
function galleryNames(page: Page): Promise<string[]> {
  return page.locator('#gallery-list li strong').allTextContents();
}

/** Searches the gallery as a person would: words, a sort, then Search. */
async function searchGallery(page: Page, q: string, sort: 'popular' | 'new') {
  await page.fill('#gallery-search [name=q]', q);
  await page.selectOption('#gallery-search [name=sort]', sort);
  await page.click('#gallery-search button[type=submit]');
}

describe('the gallery and character pictures, in Chromium', () => {
  it('one user gives a public character a picture; another finds it in the gallery, sees it and talks', async () => {
    const owner = await signedInPage(browser, parley.baseUrl);
    await createWithPicture(owner.page, 'Vega', photo);
    // The owner's room shows the stored picture, cropped to a 256 px square.
    expect(await shown(owner.page, '#room-avatar img')).toEqual({
      width: 256,
      height: 256,
      red: true,
    });

    const visitor = await signedInPage(browser, parley.baseUrl);
    await visitor.page.locator('#gallery summary').click();
    await visitor.page.fill('#gallery-search [name=q]', 'Vega');
    await visitor.page.click('#gallery-search button[type=submit]');
    const found = visitor.page.locator('#gallery-list li', { hasText: 'Vega' });
    // The unfiltered gallery (Vega among the examples) shows first: wait for the search's
    // answer, which nothing else matches.
    const listed = () => visitor.page.locator('#gallery-list li').count();
    await expect.poll(listed, { timeout: 30_000 }).toBe(1);
    await expect(found.textContent()).resolves.toContain('Knows every star by name');
    expect(await shown(visitor.page, '#gallery-list li img')).toMatchObject({
      width: 256,
      red: true,
    });

    // The room's history answers slowly, as on a loaded machine: what the visitor types while
    // the room opens must still be sent, not dropped (CI once lost this question that way).
    await visitor.page.route(
      (url) => /^\/api\/chat-rooms\/\d+\/messages$/.test(url.pathname),
      async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await route.continue();
      },
    );
    await found.getByRole('button', { name: 'Talk to Vega' }).click();
    await visitor.page.locator('#room-title', { hasText: 'Vega' }).waitFor();
    await visitor.page.fill('#composer [name=text]', exchange.question);
    await visitor.page.click('#composer button[type=submit]');
    await visitor.page.locator('#history li.character', { hasText: exchange.answer }).waitFor();
    await screenshot(visitor.page, 'gallery-visitor');

    expect([...owner.errors, ...visitor.errors]).toEqual([]);
  }, 240_000);

  it('says why a picture was refused, and the character keeps its initial', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createWithPicture(page, 'Orion', notAnImage);
    await page.locator('#room-error', { hasText: 'The picture was not kept' }).waitFor();
    // The API draws the initial when there is no picture.
    expect(await shown(page, '#room-avatar img')).toMatchObject({ red: false });
    expect(
      await page.locator('#room-avatar img').evaluate((img) => img.getAttribute('src')),
    ).toMatch(/^blob:/);
    expect(errors).toEqual([]);
  }, 240_000);

  it('sorts others’ public characters by conversations or age, pages with More, narrows by search', async () => {
    // Fourteen public characters of two other users, made one after another (Meridian 14
    // is the newest); three more users talk to some, so 03 has 3 conversations, 09 two, 12 one.
    const owners = [await devSession(parley.baseUrl), await devSession(parley.baseUrl)];
    const ids = new Map<string, string>();
    for (let n = 1; n <= 14; n++) {
      const name = `Meridian ${String(n).padStart(2, '0')}`;
      ids.set(name, await publicCharacter(owners[n % 2]?.token ?? '', name));
    }
    const fans = await Promise.all([1, 2, 3].map(() => devSession(parley.baseUrl)));
    const talks = { 'Meridian 03': 3, 'Meridian 09': 2, 'Meridian 12': 1 };
    for (const [name, count] of Object.entries(talks)) {
      for (const fan of fans.slice(0, count)) {
        await converse(fan.token, ids.get(name) ?? '');
      }
    }
    const newest = [...ids.keys()].reverse();
    const popular = [
      'Meridian 03',
      'Meridian 09',
      'Meridian 12',
      ...newest.filter((name) => !(name in talks)),
    ];

    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    // The viewer's own public Meridian, the newest of all, is not in their gallery.
    await createWithPicture(page, 'Meridian 15');
    await page.locator('#gallery summary').click();
    // The unfiltered gallery loads on opening: let it land before searching over it.
    await page.locator('#gallery-list li').first().waitFor();
    const more = page.locator('#gallery-more');

    await searchGallery(page, 'Meridian', 'popular');
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(popular.slice(0, 12));
    await more.click();
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(popular);
    await more.waitFor({ state: 'hidden' });

    await searchGallery(page, 'Meridian', 'new');
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(newest.slice(0, 12));
    await more.click();
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(newest);
    await more.waitFor({ state: 'hidden' });
    await screenshot(page, 'gallery-sorted');

    // "Meridian 1" is in 10 to 14 only; still most conversations first.
    await searchGallery(page, 'Meridian 1', 'popular');
    const narrowed = ['Meridian 12', 'Meridian 14', 'Meridian 13', 'Meridian 11', 'Meridian 10'];
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(narrowed);
    expect(await more.isHidden(), 'no More under a short page').toBe(true);

    await searchGallery(page, 'Meridian 99', 'popular');
    await page.locator('#gallery-empty').waitFor();
    expect(await galleryNames(page)).toEqual([]);
    expect(errors).toEqual([]);
  }, 240_000);

  it('keeps a search’s answer when the list from opening the gallery arrives after it', async () => {
    const other = await devSession(parley.baseUrl);
    await publicCharacter(other.token, 'Lyra Latecomer');
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    // Chromium holds the unfiltered list the gallery asks for on opening until the search has
    // been answered and shown, as a slow network might.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const isOpeningList = (url: URL) =>
      url.pathname === '/api/characters' && url.searchParams.get('q') === null;
    await page.route(isOpeningList, async (route) => {
      await held;
      await route.continue();
    });
    await page.locator('#gallery summary').click();
    await searchGallery(page, 'Lyra', 'popular');
    await expect.poll(() => galleryNames(page), { timeout: 30_000 }).toEqual(['Lyra Latecomer']);

    const late = page.waitForResponse((response) => isOpeningList(new URL(response.url())));
    release();
    await late;
    // The late list has been received; give the page a moment to (wrongly) show it.
    await page.waitForTimeout(1_000);
    expect(await galleryNames(page)).toEqual(['Lyra Latecomer']);
    expect(errors).toEqual([]);
  }, 240_000);
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectTestApp, startDirectTestApp } from './direct-app.js';
import { createCharacter, launchChromium, screenshot, signedInPage } from './page-chromium.js';

const exchange = { question: 'hello', answer: 'Good evening from the lighthouse.' };
const EDITED = 'You are Lyra, who keeps the lighthouse and speaks softly.';

let parley: DirectTestApp;
let browser: Browser;
let workDir: string;
let photo: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-edit-page-'));
  photo = join(workDir, 'lyra.png');
  const green = { r: 30, g: 180, b: 60 };
  await sharp({ create: { width: 400, height: 300, channels: 3, background: green } })
    .png()
    .toFile(photo);
  parley = await startDirectTestApp({ exchanges: [exchange] });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const field = (page: Page, name: string) => page.locator(`#character-edit-form [name=${name}]`);

/** Opens the room's editor and waits until its voice list is loaded. */
async function openEditor(page: Page) {
  await page.locator('#character-edit summary').click();
  await page.waitForFunction(
    () => document.querySelectorAll('#character-edit-form [name=voice_id] option').length > 2,
  );
}

/** The room head's picture: its decoded size and whether its centre is the photo's green. */
function roomPicture(page: Page) {
  return page.locator('#room-avatar img').evaluate(async (element) => {
    const img = element as HTMLImageElement;
    if (!img.complete || img.naturalWidth === 0) {
      await new Promise((resolve) => img.addEventListener('load', resolve, { once: true }));
    }
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context?.drawImage(img, 0, 0);
    const [r = 0, g = 0, b = 0] =
      context?.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data ?? [];
    return { width: img.naturalWidth, green: g > 130 && r < 90 && b < 110 };
  });
}

describe('editing a character, in Chromium', () => {
  it('changes instructions, voice, visibility and picture; a reload shows them kept', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createCharacter(page, 'Lyra', 'You are Lyra, a gardener.');
    await openEditor(page);
    expect(await field(page, 'instructions').inputValue()).toBe('You are Lyra, a gardener.');

    await field(page, 'instructions').fill(EDITED);
    await field(page, 'description').fill('Keeps the light on');
    const voiceId = await field(page, 'voice_id')
      .locator('option:not([value=""])')
      .last()
      .getAttribute('value');
    await field(page, 'voice_id').selectOption(voiceId ?? '');
    await field(page, 'is_public').check();
    await page.setInputFiles('#character-edit-form [name=picture]', photo);
    await page.click('#character-edit-form button[type=submit]');
    await page.locator('#character-edit [role=status]', { hasText: 'new picture' }).waitFor();
    expect(await roomPicture(page)).toEqual({ width: 256, green: true });

    await page.reload();
    await page.locator('#character-list button', { hasText: 'Lyra' }).click();
    await page.locator('#room-title', { hasText: 'Lyra' }).waitFor();
    await openEditor(page);
    expect(await field(page, 'instructions').inputValue()).toBe(EDITED);
    expect(await field(page, 'description').inputValue()).toBe('Keeps the light on');
    expect(await field(page, 'voice_id').inputValue()).toBe(voiceId);
    expect(await field(page, 'is_public').isChecked()).toBe(true);
    expect(await roomPicture(page)).toEqual({ width: 256, green: true });
    await screenshot(page, 'character-edit');

    expect(errors).toEqual([]);
  }, 240_000);

  it('says why a picture was refused and keeps the other changes', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createCharacter(page, 'Nox', 'You are Nox, an owl.');
    await openEditor(page);
    const status = page.locator('#character-edit [role=status]');

    // Named .png but not an image: the API refuses it (422).
    const fake = join(workDir, 'owl.png');
    await writeFile(fake, 'not a picture at all');
    await field(page, 'greeting').fill('Hoo is there?');
    await page.setInputFiles('#character-edit-form [name=picture]', fake);
    await page.click('#character-edit-form button[type=submit]');
    await status.filter({ hasText: 'The other changes are saved' }).waitFor();
    await expect(status.textContent()).resolves.toContain(
      '“owl.png” could not be read as an image',
    );
    await page.locator('#room-greeting', { hasText: 'Hoo is there?' }).waitFor();

    // Too large, or not a PNG, JPEG or WebP: said before anything is sent.
    const large = join(workDir, 'large.png');
    await writeFile(large, Buffer.alloc(6 * 1024 * 1024, 1));
    await page.setInputFiles('#character-edit-form [name=picture]', large);
    await page.click('#character-edit-form button[type=submit]');
    await status.filter({ hasText: '6.0 MB; a picture may be 5 MB at most' }).waitFor();
    const gif = join(workDir, 'owl.gif');
    await writeFile(gif, 'GIF89a');
    await page.setInputFiles('#character-edit-form [name=picture]', gif);
    await page.click('#character-edit-form button[type=submit]');
    await status.filter({ hasText: '“owl.gif” is not a PNG, JPEG or WebP image' }).waitFor();
    expect(errors).toEqual([]);
  }, 240_000);

  it('is not offered for a character someone else owns', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await page.locator('#character-list button').first().click();
    await page
      .locator('#room-title')
      .filter({ hasNotText: /^Conversation$/ })
      .waitFor();
    // The room's panels are filled after its title shows, the editor first, then memories:
    // read the editor only once the memories panel is there (else this passes too early).
    await page.locator('#memories summary').waitFor();
    const offered = await page.locator('#character-edit').isVisible();
    expect(offered, 'no editor for a character the user does not own').toBe(false);
    expect(errors).toEqual([]);
  }, 120_000);
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CHARACTERS } from '../../agent/examples/characters.js';
import { type DirectTestApp, startDirectTestApp } from './direct-app.js';
import { launchChromiumRefusingMicrophone, screenshot } from './page-chromium.js';

let parley: DirectTestApp;
let browser: Browser;

// A fresh install with no keys: no OpenAI configuration at all (Cartesia stays emulated).
beforeAll(async () => {
  parley = await startDirectTestApp({
    exchanges: [{ question: 'hello there', answer: 'Hello.' }],
    env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
  });
  browser = await launchChromiumRefusingMicrophone();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await parley?.close();
});

async function signIn(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(parley.baseUrl);
  await page.click('#dev-sign-in');
  await page.locator('#character-list button').first().waitFor();
  return errors;
}

describe('the first visit, with no keys configured', () => {
  it('shows the example characters and says exactly what to configure', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    const errors = await signIn(page);

    const notice = page.locator('#setup-notice');
    await expect(notice.isVisible()).resolves.toBe(true);
    const text = await notice.textContent();
    expect(text).toContain('OPENAI_API_KEY or OPENAI_BASE_URL');
    expect(text).toContain('npm run dev:providers');

    // Each button is the character's picture (an <img>, no text) and its name.
    const names = await page.locator('#character-list button').allTextContents();
    expect(names).toEqual(EXAMPLE_CHARACTERS.map((c) => c.name));

    const mira = EXAMPLE_CHARACTERS[0];
    await page.locator('#character-list button', { hasText: mira?.name ?? '' }).click();
    await page.locator('#room-title', { hasText: mira?.name ?? '' }).waitFor();
    // No picture uploaded: the room shows the initial the API draws, loaded from a blob: URL.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#room-avatar img');
      return img?.src.startsWith('blob:') && img.naturalWidth > 0;
    });
    expect(await page.locator('#room-greeting').textContent()).toBe(mira?.greeting);
    // Its document waits for an embedding provider, and the page says so.
    expect(await page.locator('#room-knowledge').textContent()).toContain('1 waiting');

    // Typing: the answer is an error in words, naming the variable.
    await page.locator('#history li.character').first().waitFor();
    await page.fill('#composer [name=text]', 'What can I see tonight?');
    await page.keyboard.press('Enter');
    await page.locator('#room-error', { hasText: 'OPENAI_API_KEY' }).waitFor();
    expect(await page.locator('#room-error').getAttribute('role')).toBe('alert');
    await screenshot(page, 'first-run-no-llm');

    // Keyboard only: Tab reaches the Talk button; the meters have labels.
    expect(await page.locator('label[for=mic-level]').textContent()).toBe('You');
    expect(await page.locator('label[for=level]').textContent()).toBe('Character');
    await page.locator('#talk').focus();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('talk');

    // The microphone refused: a clear error, and Talk can be pressed again.
    await page.keyboard.press('Enter');
    await page.locator('#room-error', { hasText: 'Microphone access was refused' }).waitFor();
    expect(await page.locator('#talk').isEnabled()).toBe(true);
    await screenshot(page, 'first-run-mic-refused');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Screenshots land here (gitignored), for a person to look at. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

/** Debian's Chromium, headless, with a fake microphone playing `microphoneWav` when given. */
export async function launchChromium(microphoneWav?: string): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  const args =
    microphoneWav === undefined
      ? FLAGS
      : [...FLAGS, `--use-file-for-fake-audio-capture=${microphoneWav}`];
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

/**
 * Debian's Chromium, headless, refusing the microphone as a user clicking "Block" would:
 * without --use-fake-ui-for-media-stream, headless Chromium answers no permission prompt.
 */
export async function launchChromiumRefusingMicrophone(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  const args = FLAGS.filter((flag) => flag !== '--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}

/** A new page signed in as a fresh dev user; returns the page errors seen from then on. */
export async function signedInPage(
  browser: Browser,
  baseUrl: string,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(baseUrl);
  await page.click('#dev-sign-in');
  await page.locator('#character-list button').first().waitFor();
  return { page, errors };
}

/** Creates a character through the page's form and waits until its room is open. */
export async function createCharacter(page: Page, name: string, instructions: string) {
  await page.locator('#new-character-panel summary').click();
  await page.fill('#new-character [name=name]', name);
  await page.fill('#new-character [name=instructions]', instructions);
  await page.click('#new-character button[type=submit]');
  await page.locator('#room-title', { hasText: name }).waitFor();
}

/** Saves a full-page screenshot as `test-artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

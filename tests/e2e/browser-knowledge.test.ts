import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectTestApp, startDirectTestApp } from './direct-app.js';
import { createCharacter, launchChromium, screenshot, signedInPage } from './page-chromium.js';

const NOTES = `# The observatory

The observatory dome opens at nine in the evening, and the big telescope is a 60 cm reflector.

Visitors must book a night slot; children under twelve come with an adult.
`;

let parley: DirectTestApp;
let browser: Browser;
let workDir: string;
let notes: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-knowledge-page-'));
  notes = join(workDir, 'observatory.md');
  await writeFile(notes, NOTES);
  parley = await startDirectTestApp({ exchanges: [{ question: 'hello', answer: 'Hello.' }] });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await parley?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('the knowledge panel, in Chromium', () => {
  it('uploads a file, watches it become ready, finds a passage by search, deletes it', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await createCharacter(page, 'Astra', 'You are Astra, who runs the observatory.');
    await page.locator('#knowledge summary').click();
    await page.setInputFiles('#knowledge-file', notes);

    const ready = page.locator('#knowledge-documents li[data-status=ready]', {
      hasText: 'observatory.md',
    });
    await ready.waitFor({ timeout: 120_000 });
    await expect(ready.textContent()).resolves.toMatch(/ready, [1-9]\d* passages/);

    await page.fill('#knowledge-search [name=q]', 'When does the observatory dome open?');
    await page.click('#knowledge-search button');
    await page.locator('#knowledge-passages li', { hasText: 'opens at nine' }).first().waitFor();
    await screenshot(page, 'knowledge-panel');

    await ready.getByRole('button', { name: 'Delete observatory.md' }).click();
    await page.locator('#knowledge [role=status]', { hasText: 'Forgot' }).waitFor();
    // The list is read again after the delete: wait for it.
    const listed = () => page.locator('#knowledge-documents li').count();
    await expect.poll(listed, { timeout: 30_000 }).toBe(0);
    expect(errors).toEqual([]);
  }, 240_000);

  it('is not offered for a character someone else owns', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    // The example characters are not the new user's own.
    await page.locator('#character-list button').first().click();
    await page.locator('#room').waitFor();
    await page
      .locator('#room-title')
      .filter({ hasNotText: /^Conversation$/ })
      .waitFor();
    expect(await page.locator('#knowledge').isHidden()).toBe(true);
    expect(errors).toEqual([]);
  }, 120_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import type { Pcm16Audio } from '../../agent/providers/local/wav.js';
import { characters } from '../../db/schema.js';
import { writeWavFile } from '../audio/wav-file.js';
import { type DirectTestApp, startDirectTestApp } from './direct-app.js';
import { launchChromium, screenshot, signedInPage } from './page-chromium.js';

const RATE = 48_000;

let parley: DirectTestApp;
let noCartesia: DirectTestApp;
let browser: Browser;
let workDir: string;

// Chromium's fake microphone plays a spoken sentence in a loop: the recorder hears speech.
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-voices-'));
  const speech = resample(
    await synthesizeSpeech('This is my own voice, recorded for my character to speak with.'),
    RATE,
  );
  const wav = join(workDir, 'me.wav');
  await writeWavFile(wav, { samples: speech, sampleRate: RATE });
  const exchanges = [{ question: 'hello', answer: 'Hola.' }];
  parley = await startDirectTestApp({ exchanges });
  noCartesia = await startDirectTestApp({
    exchanges,
    env: { CARTESIA_API_KEY: '', CARTESIA_BASE_URL: '' },
  });
  browser = await launchChromium(wav);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await parley?.close();
  await noCartesia?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('the character form’s voices, in Chromium', () => {
  it('picks a Spanish voice, plays its preview, clones a recorded voice, uses it, deletes it', async () => {
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await page.click('#new-character-panel summary');

    // The voice list follows the language: the emulator's library has two Spanish voices.
    await page.locator('#character-voice option').first().waitFor({ state: 'attached' });
    await page.selectOption('#character-language', 'es');
    await page.waitForFunction(
      () => document.querySelectorAll('#character-voice option').length === 2,
    );
    const voiceId = await page.locator('#character-voice').inputValue();

    // The preview: fetched once, loaded by the audio element, and playing.
    await page.click('#voice-play');
    await page.waitForFunction(() => {
      const audio = document.getElementById('voice-preview') as HTMLAudioElement | null;
      return audio !== null && audio.readyState >= 2 && (audio.currentTime > 0 || audio.ended);
    });
    expect(
      await page.$eval('#voice-preview', (a) => (a as HTMLAudioElement).duration),
    ).toBeGreaterThan(1);
    expect(parley.cartesia.requests.bytes.at(-1)).toMatchObject({
      voice: { id: voiceId },
      language: 'es',
    });

    // Record to clone: 12 s from the fake microphone, uploaded as WAV, cloned at Cartesia.
    await page.fill('#voice-clone-name', 'Mi voz');
    await page.click('#voice-record');
    await page.locator('#voice-clone-status', { hasText: 'is ready' }).waitFor({ timeout: 90_000 });
    const clone = parley.cartesia.voices.clones.at(-1);
    expect(clone).toMatchObject({ name: 'Mi voz', language: 'es', clipType: 'audio/wav' });
    // About 12 s of 16-bit audio at the page's rate (at least 8 kHz): more than 190 kB.
    expect(clone?.clipBytes).toBeGreaterThan(190_000);
    expect(await page.locator('#character-voice').inputValue()).toBe(clone?.voiceId);
    await page.locator('#voice-clones li', { hasText: 'Mi voz' }).waitFor();
    await screenshot(page, 'voices-cloned');

    await page.fill('#new-character [name=name]', 'Lucía');
    await page.fill('#new-character [name=instructions]', 'Eres Lucía.');
    await page.click('#new-character button[type=submit]');
    await page.locator('#room-title', { hasText: 'Lucía' }).waitFor();
    const [created] = await parley.database.db
      .select()
      .from(characters)
      .where(eq(characters.name, 'Lucía'));
    expect(created).toMatchObject({ voiceId: clone?.voiceId, language: 'es' });

    // Delete the voice: gone from the list and from Cartesia.
    await page.click('#new-character-panel summary');
    await page.selectOption('#character-language', 'es');
    await page.getByRole('button', { name: 'Delete voice Mi voz' }).click();
    await page.locator('#voice-clone-status', { hasText: 'deleted' }).waitFor();
    await page.locator('#voice-clones li').first().waitFor({ state: 'detached' });
    expect(parley.cartesia.voices.deleted).toEqual([clone?.voiceId]);
    expect(await page.locator('#character-voice option').allTextContents()).not.toContain(
      expect.stringContaining('Mi voz'),
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('clones from an uploaded clip, and says why a clip too short was refused', async () => {
    const sentence = await synthesizeSpeech('Here is a clip I saved on my phone for my voice.');
    const long = join(workDir, 'saved.wav');
    await writeWavFile(long, repeatedTo(sentence, 12));
    const short = join(workDir, 'short.wav');
    await writeWavFile(short, repeatedTo(sentence, 3));
    const { page, errors } = await signedInPage(browser, parley.baseUrl);
    await page.click('#new-character-panel summary');
    await page.locator('#character-voice option').first().waitFor({ state: 'attached' });

    await page.fill('#voice-clone-name', 'Too short');
    await page.setInputFiles('#voice-upload', short);
    await page.locator('#voice-clone-status', { hasText: 'Record at least' }).waitFor();
    const clonesBefore = parley.cartesia.voices.clones.length;

    await page.fill('#voice-clone-name', 'From my phone');
    await page.setInputFiles('#voice-upload', long);
    await page.locator('#voice-clone-status', { hasText: 'is ready' }).waitFor({ timeout: 90_000 });
    expect(parley.cartesia.voices.clones.length, 'only the long clip was cloned').toBe(
      clonesBefore + 1,
    );
    const clone = parley.cartesia.voices.clones.at(-1);
    expect(clone).toMatchObject({ name: 'From my phone', clipType: 'audio/wav' });
    // 12 s of 16-bit audio at the page's rate, which is at least the file's 16 kHz.
    expect(clone?.clipBytes).toBeGreaterThan(12 * 16_000 * 2);
    expect(await page.locator('#character-voice').inputValue()).toBe(clone?.voiceId);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('without a Cartesia key offers flite, one voice, and says so plainly', async () => {
    const { page, errors } = await signedInPage(browser, noCartesia.baseUrl);
    await page.click('#new-character-panel summary');
    await page.locator('#voice-notice').waitFor();
    expect(await page.locator('#voice-notice').textContent()).toContain('CARTESIA_API_KEY');
    expect(await page.locator('#character-voice option').count()).toBe(1);
    expect(await page.locator('#voice-clone').isHidden()).toBe(true);
    await page.click('#voice-play');
    await page.waitForFunction(() => {
      const audio = document.getElementById('voice-preview') as HTMLAudioElement | null;
      return audio !== null && audio.readyState >= 2 && audio.duration > 0.5;
    });
    await screenshot(page, 'voices-flite');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

/** `audio` said again and again until it lasts at least `seconds`. */
function repeatedTo(audio: Pcm16Audio, seconds: number): Pcm16Audio {
  const wanted = Math.ceil(seconds * audio.sampleRate);
  const samples = new Int16Array(wanted);
  for (let at = 0; at < wanted; at += audio.samples.length) {
    samples.set(audio.samples.subarray(0, Math.min(audio.samples.length, wanted - at)), at);
  }
  return { samples, sampleRate: audio.sampleRate };
}

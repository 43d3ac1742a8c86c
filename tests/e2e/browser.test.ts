import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { messages } from '../../db/schema.js';
import { writeWavFile } from '../audio/wav-file.js';
import { type DirectTestApp, startDirectTestApp, until } from './direct-app.js';
import { ARTIFACTS, createCharacter, launchChromium } from './page-chromium.js';
import { EXCHANGES } from './script.js';

const exchange = EXCHANGES[0] ?? { question: '', answer: '' };
const RATE = 48_000;
/** The microphone starts before the call connects: the question waits for it. */
const SILENCE_BEFORE_S = 3;
/** Chromium loops the fake microphone's file: the silence after the question keeps it one turn. */
const SILENCE_AFTER_S = 45;

let parley: DirectTestApp;
let browser: Browser;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-browser-'));
  const question = resample(await synthesizeSpeech(exchange.question), RATE);
  const wav = join(workDir, 'question.wav');
  const samples = new Int16Array(RATE * (SILENCE_BEFORE_S + SILENCE_AFTER_S) + question.length);
  samples.set(question, RATE * SILENCE_BEFORE_S);
  await writeWavFile(wav, { samples, sampleRate: RATE });
  parley = await startDirectTestApp({ exchanges: [exchange] });
  browser = await launchChromium(wav);
});

afterAll(async () => {
  await browser?.close();
  await parley?.close();
  await rm(workDir, { recursive: true, force: true });
});

async function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}

describe('the web page in Chromium, over direct WebRTC', () => {
  it('asks a spoken question with the camera on, hears the answer, sees captions, then types; all is stored', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(parley.baseUrl);

    await page.click('#dev-sign-in');
    await createCharacter(page, 'Mira', 'You are Mira. Answer in one sentence.');

    // Chromium's fake camera (a moving test pattern) goes out as a VP8 track.
    await page.check('#use-camera');
    await page.click('#talk');
    await page.locator('#history li.character').first().waitFor({ timeout: 180_000 });
    const peak = Number(await page.locator('#level').getAttribute('data-peak'));
    // The user's microphone (Chromium's fake one, playing the question) moved its own meter.
    const micPeak = Number(await page.locator('#mic-level').getAttribute('data-peak'));
    await page.screenshot({ path: join(ARTIFACTS, 'direct-call.png'), fullPage: true });

    const question = normalizePhrase(exchange.question);
    expect((await texts(page, '#history li.user'))[0]).toBe(question);
    expect((await texts(page, '#history li.character'))[0]).toBe(exchange.answer);
    // The reply's audio reached the page and was loud (AnalyserNode RMS, 0..1, scaled x4).
    expect(peak).toBeGreaterThan(0.05);
    expect(micPeak).toBeGreaterThan(0.05);
    expect(await page.locator('#agent-state').textContent()).not.toBe('offline');

    await page.click('#hang-up');
    await until('the call has ended on the server', () => parley.calls.size === 0);
    expect(await page.locator('#agent-state').textContent()).toBe('offline');
    expect(parley.transcripts).toContain(question);
    expect(parley.openai.requests.transcriptions[0]?.file.container).toBe('wav');

    // Typing goes over the WebSocket chat into the same room.
    await page.fill('#composer [name=text]', exchange.question);
    await page.click('#composer button[type=submit]');
    await page.locator('#history li.character').nth(1).waitFor();
    expect((await texts(page, '#history li')).slice(-2)).toEqual([
      exchange.question,
      exchange.answer,
    ]);

    const [room] = await parley.database.db.select().from(messages);
    const stored = await parley.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatRoomId, room?.chatRoomId ?? 0))
      .orderBy(messages.seq);
    expect(stored.map((m) => [m.sender, m.text, m.modality])).toEqual([
      ['user', question, 'voice'],
      ['character', exchange.answer, 'voice'],
      ['user', exchange.question, 'text'],
      ['character', exchange.answer, 'text'],
    ]);
    // The character saw the camera: the LLM got a picture with the question. (With preemptive
    // generation the first request may leave before the turn is complete, without it.)
    const withPicture = parley.openai.requests.chatCompletions.filter((request) => {
      const lastUser = request.messages.findLast((message) => message.role === 'user');
      const parts = Array.isArray(lastUser?.content) ? lastUser.content : [];
      return (
        JSON.stringify(lastUser).includes(question) && parts.some((p) => p.type === 'image_url')
      );
    });
    expect(withPicture.length).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { writeWavFile } from '../audio/wav-file.js';
import { createCharacter, launchChromium } from '../e2e/page-chromium.js';
import { phraseRecognizer, scriptedReply } from '../e2e/script.js';
import { type LiveKitStack, startLiveKitStack } from './livekit-stack.js';

const exchange = {
  question: 'What is the capital of France?',
  answer: 'The capital of France is Paris.',
};
const RATE = 48_000;
/**
 * Chromium loops the fake microphone's file from when the page opens it, and the agent only
 * listens once its job process has joined: the question comes round again every ~20 s until
 * it is heard whole (a partial one gets the scripted fallback, not the answer waited for).
 */
const SILENCE_AFTER_S = 18;

let stack: LiveKitStack;
let browser: Browser;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parley-lk-page-'));
  const recognizer = phraseRecognizer([exchange.question]);
  stack = await startLiveKitStack({
    openai: { reply: scriptedReply([exchange]), transcribe: (audio) => recognizer.wav(audio) },
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** Chromium whose fake microphone plays the question (once a second of silence has passed). */
async function launchBrowser(): Promise<Browser> {
  const question = resample(await synthesizeSpeech(exchange.question), RATE);
  const wav = join(workDir, 'question.wav');
  const samples = new Int16Array(RATE * (1 + SILENCE_AFTER_S) + question.length);
  samples.set(question, RATE);
  await writeWavFile(wav, { samples, sampleRate: RATE });
  return launchChromium(wav);
}

interface MessageView {
  role: string;
  text: string;
  modality: string;
}

/** The room's history over REST, as any client reads it, signed in as the page's user. */
async function history(userId: string): Promise<MessageView[]> {
  const session = await fetch(`${stack.baseUrl}/auth/dev/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: userId }),
  });
  const { access_token: token } = (await session.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${token}` };
  const rooms = (await (await fetch(`${stack.baseUrl}/api/chat-rooms`, { headers })).json()) as {
    id: number;
  }[];
  const url = `${stack.baseUrl}/api/chat-rooms/${rooms[0]?.id}/messages?limit=50`;
  return ((await (await fetch(url, { headers })).json()) as { messages: MessageView[] }).messages;
}

/** What the page, the LLM emulator, the room and the worker show: for a failure message. */
async function whatHappened(page: Page): Promise<string> {
  const participants = stack.server.rooms.flatMap((room) =>
    room.participants.map((p) => `${p.identity} ${p.connected} ${p.info.tracks.length} tracks`),
  );
  return [
    `page history: ${JSON.stringify(await page.locator('#history li').allTextContents())}`,
    `agent state: ${await page.locator('#agent-state').textContent()}`,
    `room error: ${await page.locator('#room-error').textContent()}`,
    `transcriptions: ${stack.openai.requests.transcriptions.length}`,
    `chat completions: ${stack.openai.requests.chatCompletions.length}`,
    `participants: ${participants.join('; ')}`,
    `dispatches: ${stack.server.dispatches.map((d) => d.outcome).join(', ')}`,
    ...stack.worker.logs.filter((l) => Number(l.level) >= 50).map((l) => JSON.stringify(l)),
  ].join('\n');
}

describe('the web page in LiveKit mode, in Chromium (livekit-client)', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);

  it('talks through a LiveKit room: captions on the page, hang up, the history has it', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(stack.baseUrl);
    await page.click('#dev-sign-in');
    await createCharacter(page, 'Mira', 'You are Mira. Answer in one sentence.');

    await page.click('#talk');
    const question = normalizePhrase(exchange.question);
    // The final captions become the page's history lines.
    const answered = page.locator('#history li.character', { hasText: exchange.answer });
    await answered
      .first()
      .waitFor({ timeout: 180_000 })
      .catch(async (error: unknown) => {
        throw new Error(`${String(error)}\n${await whatHappened(page)}`);
      });
    await page.locator('#history li.user', { hasText: question }).first().waitFor();
    // The answer's audio came down the agent's track and moved the page's level meter.
    await expect
      .poll(async () => Number(await page.locator('#level').getAttribute('data-peak')), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0.05);

    await page.click('#hang-up');
    await expect.poll(() => page.locator('#agent-state').textContent()).toBe('offline');
    // The user left the room; the agent's job stores the turn and ends.
    await stack.server.waitUntil(
      () => (stack.server.rooms.length === 0 ? true : undefined),
      'the room to empty',
    );

    const userId = await page.evaluate(() => localStorage.getItem('parley.devUserId'));
    const messages = await history(userId ?? '');
    const asked = messages.findIndex((m) => m.role === 'user' && m.text === question);
    expect(asked).toBeGreaterThanOrEqual(0);
    expect(messages[asked]?.modality).toBe('voice');
    expect(messages.slice(asked + 1).find((m) => m.role === 'character')).toMatchObject({
      text: exchange.answer,
      modality: 'voice',
    });
    expect(pageErrors).toEqual([]);
  }, 300_000);
});

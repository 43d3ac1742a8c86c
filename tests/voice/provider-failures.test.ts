import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APOLOGY } from '../../agent/conversation/prompt.js';
import { listMessages } from '../../db/queries/messages.js';
import type { Message } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { type PlayedSegment, startVoiceHarness, type VoiceHarness, waitFor } from './harness.js';
import { scriptedReplies, transcribeWithPocketsphinx } from './script.js';

const MOON = 'how far away is the moon';
const STARS = 'tell me about the stars';
const WEATHER = 'what is the weather like';
const REPLIES = {
  moon: 'The moon is about three hundred and eighty thousand kilometres away.',
  stars: 'Stars are huge balls of hot gas, very far away from us.',
  weather: 'It is clear tonight, good for looking at the sky.',
};

let database: TestDatabase;
let h: VoiceHarness;
let chatRoomId: number;

beforeAll(async () => {
  database = await openTestDatabase();
  chatRoomId = (await makeConversation(database.db)).room.id;
  h = await startVoiceHarness({
    db: database.db,
    chatRoomId,
    openai: {
      reply: scriptedReplies(REPLIES),
      transcribe: transcribeWithPocketsphinx([MOON, STARS, WEATHER]),
    },
  });
  await h.playedOut(await h.nextReply(0));
  await h.idle();
});
afterAll(async () => {
  await h?.close();
  await database.close();
});

/** Says `text` and waits until the character has said `last` (as a caption) and gone quiet. */
async function turn(
  text: string,
  last: string,
): Promise<{ segments: PlayedSegment[]; captions: string[] }> {
  const captionsBefore = h.captions.captions.length;
  const said = await h.say(text);
  const first = await h.nextReply(said.endedAt);
  const captions = () => h.captions.captions.slice(captionsBefore);
  await waitFor(
    () => (captions().some((c) => c.flushed && c.text.trim() === last) ? true : undefined),
    () => `the character to say "${last}"; it said ${JSON.stringify(captions())}`,
  );
  await h.idle();
  await h.brain.writer.flush();
  return {
    segments: h.output.segments.filter((s) => s.index >= first.index),
    captions: captions().map((c) => c.text.trim()),
  };
}

async function storedSince(count: number): Promise<Message[]> {
  return (await listMessages(database.db, { chatRoomId, limit: 50 })).messages.slice(count);
}

async function storedCount(): Promise<number> {
  return (await listMessages(database.db, { chatRoomId, limit: 50 })).messages.length;
}

/** The next turn after a failure is answered normally. */
async function expectNextTurnWorks(question: string, answer: string) {
  const before = await storedCount();
  const next = await turn(question, answer);
  expect(next.captions).toEqual([answer]);
  expect(next.segments.every((s) => s.peakRms > 500)).toBe(true);
  const stored = await storedSince(before);
  expect(stored.map((m) => [m.sender, m.text])).toEqual([
    ['user', question],
    ['character', answer],
  ]);
}

describe('a provider failing mid-turn', () => {
  it('speech-to-text answering 500: the user hears an apology, then the next turn works', async () => {
    const before = await storedCount();
    h.openai.failNext(1, 500, { endpoint: 'transcriptions' });
    const failed = await turn(MOON, APOLOGY);
    expect(failed.captions).toEqual([APOLOGY]);
    expect(failed.segments[0]?.peakRms).toBeGreaterThan(500);
    expect(h.timeline.errors.map((e) => e.value.type)).toContain('stt_error');
    // The words were lost, so no user message; the apology is stored as said.
    expect((await storedSince(before)).map((m) => [m.sender, m.text])).toEqual([
      ['character', APOLOGY],
    ]);
    await expectNextTurnWorks(STARS, REPLIES.stars);
  });

  it('the LLM stream cut off: the user hears an apology, then the next turn works', async () => {
    const before = await storedCount();
    const errors = h.timeline.errors.length;
    h.openai.cutNextStream(3);
    const failed = await turn(WEATHER, APOLOGY);
    expect(failed.captions.at(-1)).toBe(APOLOGY);
    expect(h.timeline.errors.slice(errors).map((e) => e.value.type)).toContain('llm_error');
    const stored = await storedSince(before);
    expect(stored[0]).toMatchObject({ sender: 'user', text: WEATHER });
    expect(stored.at(-1)).toMatchObject({ sender: 'character', text: APOLOGY });
    await expectNextTurnWorks(MOON, REPLIES.moon);
  });

  it('the speech socket closed mid-reply: the user hears an apology, then the next turn works', async () => {
    const before = await storedCount();
    const errors = h.timeline.errors.length;
    h.cartesia.closeNextSocket(2);
    const failed = await turn(STARS, APOLOGY);
    expect(failed.captions.at(-1)).toBe(APOLOGY);
    expect(failed.segments.at(-1)?.peakRms).toBeGreaterThan(500);
    expect(h.timeline.errors.slice(errors).map((e) => e.value.type)).toContain('tts_error');
    const stored = await storedSince(before);
    expect(stored[0]).toMatchObject({ sender: 'user', text: STARS });
    expect(stored.at(-1)).toMatchObject({ sender: 'character', text: APOLOGY });
    await expectNextTurnWorks(WEATHER, REPLIES.weather);
  });
});

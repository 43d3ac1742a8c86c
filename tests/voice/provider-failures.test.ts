import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharacterAgent } from '../../agent/character-agent.js';
import { APOLOGY } from '../../agent/conversation/prompt.js';
import { TURN_HANDLING } from '../../agent/voice/session.js';
import { listMessages } from '../../db/queries/messages.js';
import type { Message } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import {
  type PlayedSegment,
  startVoiceHarness,
  type VoiceHarness,
  type VoiceHarnessOptions,
  waitFor,
} from './harness.js';
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

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/** A session in a new room, past its greeting; closed after the enclosing describe. */
function useHarness(overrides?: VoiceHarnessOptions['overrides']): void {
  beforeAll(async () => {
    const chatRoomId = (await makeConversation(database.db)).room.id;
    h = await startVoiceHarness({
      db: database.db,
      chatRoomId,
      openai: {
        reply: scriptedReplies(REPLIES),
        transcribe: transcribeWithPocketsphinx([MOON, STARS, WEATHER]),
      },
      ...(overrides === undefined ? {} : { overrides }),
    });
    await h.playedOut(await h.nextReply(0));
    await h.idle();
  });
  afterAll(async () => {
    await h?.close();
  });
}

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
  const chatRoomId = h.agent instanceof CharacterAgent ? h.agent.chatRoom.id : Number.NaN;
  return (await listMessages(database.db, { chatRoomId, limit: 50 })).messages.slice(count);
}

async function storedCount(): Promise<number> {
  return (await storedSince(0)).length;
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
  useHarness();

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

/**
 * With preemptive generation the reply starts on the final transcript, before the turn ends:
 * a provider can fail while the user's turn is still open. On an idle machine speech-to-text
 * answers well within the 800 ms endpointing delay, so that is the usual order (and the one
 * that lost the apology); these tests make it near certain on any machine, with an instant
 * transcript and a long endpointing delay, and check that the failure did come first.
 */
describe('a provider failing before the user turn has ended', () => {
  const ENDPOINTING_MS = 8_000;
  useHarness({
    turnHandling: {
      ...TURN_HANDLING,
      endpointing: { mode: 'fixed', minDelay: ENDPOINTING_MS, maxDelay: 2 * ENDPOINTING_MS },
    },
  });

  /** The failure was reported before the user's message was committed (the turn ended). */
  function expectFailureBeforeTurnEnded(since: number, type: string) {
    const failedAt = h.timeline.errors.find((e) => e.at > since && e.value.type === type)?.at;
    const committedAt = h.timeline.items.find((i) => i.at > since && i.value.role === 'user')?.at;
    expect(failedAt).toBeDefined();
    expect(committedAt).toBeDefined();
    expect(failedAt).toBeLessThan(committedAt ?? Number.NaN);
  }

  it('the LLM stream cut off: the whole apology follows what was said, then the next turn works', {
    timeout: 180_000,
  }, async () => {
    const before = await storedCount();
    const since = performance.now();
    h.openai.cutNextStream(3);
    h.openai.enqueueTranscript(WEATHER);
    const failed = await turn(WEATHER, APOLOGY);
    expectFailureBeforeTurnEnded(since, 'llm_error');
    // The three tokens the LLM sent before the cut are played, then the apology, whole.
    expect(failed.captions).toEqual(['It is clear', APOLOGY]);
    const stored = await storedSince(before);
    expect(stored.map((m) => [m.sender, m.text, m.interrupted])).toEqual([
      ['user', WEATHER, false],
      ['character', 'It is clear', false],
      ['character', APOLOGY, false],
    ]);
    await expectNextTurnWorks(MOON, REPLIES.moon);
  });

  it('the speech socket closed: the whole apology is heard, then the next turn works', {
    timeout: 180_000,
  }, async () => {
    const before = await storedCount();
    const since = performance.now();
    h.cartesia.closeNextSocket(2);
    h.openai.enqueueTranscript(STARS);
    const failed = await turn(STARS, APOLOGY);
    expectFailureBeforeTurnEnded(since, 'tts_error');
    expect(failed.captions.at(-1)).toBe(APOLOGY);
    expect(failed.segments.at(-1)?.peakRms).toBeGreaterThan(500);
    const stored = await storedSince(before);
    expect(stored[0]).toMatchObject({ sender: 'user', text: STARS });
    expect(stored.at(-1)).toMatchObject({ sender: 'character', text: APOLOGY, interrupted: false });
    await expectNextTurnWorks(WEATHER, REPLIES.weather);
  });
});

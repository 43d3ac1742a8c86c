import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import type { ChatRoom } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness } from './harness.js';
import { scriptedReplies, transcribeWithPocketsphinx } from './script.js';

const QUESTION = 'how far away is the moon';
const FOLLOW_UP = 'tell me about the stars';
const PHRASES = [QUESTION, FOLLOW_UP, 'play some relaxing music'];
const ANSWER = 'The moon is about three hundred and eighty thousand kilometres away.';
const STARS = 'Stars are huge balls of hot gas, far away from us.';
const GREETING = 'Hello! Ask me anything about the sky.';

let database: TestDatabase;
let room: ChatRoom;
let harness: VoiceHarness | undefined;

beforeAll(async () => {
  database = await openTestDatabase();
  room = (await makeConversation(database.db)).room;
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});
afterAll(async () => {
  await database.close();
});

async function start(options: Partial<Parameters<typeof startVoiceHarness>[0]> = {}) {
  harness = await startVoiceHarness({
    db: database.db,
    chatRoomId: room.id,
    openai: {
      reply: scriptedReplies({ moon: ANSWER, stars: STARS }),
      transcribe: transcribeWithPocketsphinx(PHRASES),
    },
    ...options,
  });
  return harness;
}

async function stored() {
  return (await listMessages(database.db, { chatRoomId: room.id, limit: 50 })).messages;
}

describe('a voice turn through the real session, with real audio', () => {
  it('greets, hears a spoken question (Silero, Whisper upload), answers aloud, stores both', async () => {
    const h = await start();
    const greeting = await h.playedOut(await h.nextReply(0));
    expect(greeting.peakRms).toBeGreaterThan(500);
    expect(greeting.interrupted).toBe(false);
    await h.idle();

    const said = await h.say(QUESTION);
    const reply = await h.nextReply(said.endedAt);
    await h.playedOut(reply);
    await h.idle();
    await h.brain.writer.flush();
    console.info(
      `[voice] end of speech -> first reply frame: ${Math.round(reply.firstFrameAt - said.endedAt)} ms`,
    );

    // Silero heard the user start and stop.
    const speaking = h.timeline.userStates.find(
      (s) => s.value === 'speaking' && s.at >= said.startedAt,
    );
    expect(speaking).toBeDefined();
    // Whisper got one real WAV of the utterance; pocketsphinx behind it recognised the phrase.
    const upload = h.openai.requests.transcriptions.at(-1);
    expect(upload).toMatchObject({
      model: 'whisper-1',
      language: 'en',
      file: { container: 'wav' },
    });
    expect(upload?.file.bytes ?? 0).toBeGreaterThan(said.durationMs * 16 * 2 * 0.8);
    expect(h.timeline.transcripts.map((t) => t.value)).toEqual([QUESTION]);
    // The LLM saw the question; its answer came out as speech, not silence.
    const prompt = JSON.stringify(h.openai.requests.chatCompletions.at(-1)?.messages);
    expect(prompt).toContain(QUESTION);
    expect(reply.peakRms).toBeGreaterThan(500);
    expect(reply.playedMs).toBeGreaterThan(1_500);
    expect(reply.interrupted).toBe(false);
    expect(h.captions.captions.map((c) => c.text.trim())).toEqual([GREETING, ANSWER]);

    const messages = await stored();
    expect(messages.map((m) => [m.sender, m.text, m.modality, m.interrupted])).toEqual([
      ['character', GREETING, 'voice', false],
      ['user', QUESTION, 'voice', false],
      ['character', ANSWER, 'voice', false],
    ]);
    expect(messages[0]?.clientId).toBe('greeting');
    expect(messages[1]?.metrics?.transcriptionDelayMs).toBeGreaterThanOrEqual(0);
    expect(messages[2]?.metrics?.e2eLatencyMs).toBeGreaterThan(0);
    expect(messages[2]?.metrics?.llmTtftMs).toBeGreaterThan(0);
    expect(messages[2]?.metrics?.ttsTtfbMs).toBeGreaterThan(0);
  });

  it('in the same room again: no second greeting, and pocketsphinx hears the exact phrase', async () => {
    const before = (await stored()).length;
    const h = await start({ stt: { kind: 'pocketsphinx', phrases: PHRASES } });
    const said = await h.say(FOLLOW_UP);
    const reply = await h.playedOut(await h.nextReply(said.endedAt));
    await h.idle();
    await h.brain.writer.flush();

    // The first thing the character said in this session is the answer: no greeting.
    expect(h.output.segments).toHaveLength(1);
    expect(reply.peakRms).toBeGreaterThan(500);
    expect(h.openai.requests.transcriptions).toHaveLength(0);
    expect(h.timeline.transcripts.map((t) => t.value)).toEqual([FOLLOW_UP]);
    const messages = (await stored()).slice(before);
    expect(messages.map((m) => [m.sender, m.text, m.modality])).toEqual([
      ['user', FOLLOW_UP, 'voice'],
      ['character', STARS, 'voice'],
    ]);
    const greetings = (await stored()).filter((m) => m.clientId === 'greeting');
    expect(greetings).toHaveLength(1);
    // The previous session's turn is in the context the LLM saw.
    const prompt = JSON.stringify(h.openai.requests.chatCompletions.at(-1)?.messages);
    expect(prompt).toContain(ANSWER);
  });
});

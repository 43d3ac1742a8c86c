/**
 * One voice session driven by the harness for the voice benchmarks (bench/voice.ts): turns
 * timed from the exact end of the user's speech to the first reply frame, with where each
 * turn's time went, and barge-ins. Each measurement runs in a child process of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenize } from '@livekit/agents';
import { synthesizeSpeech } from '../agent/providers/local/flite.js';
import type { Pcm16Audio } from '../agent/providers/local/wav.js';
import { type DatabaseHandle, openDatabase } from '../db/client.js';
import { createDocument } from '../db/queries/knowledge.js';
import { makeConversation } from '../tests/helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness, waitFor } from '../tests/voice/harness.js';
import { scriptedReplies } from '../tests/voice/script.js';
import { type TurnPhases, turnPhases } from '../tests/voice/turn-phases.js';
import { isBenchChild } from './child.js';
import type { FloorInputs } from './voice-floor.js';

/** The emulated providers' fixed latencies (issue 7's example figures). */
export const LATENCY = { sttMs: 150, llmTtftMs: 250, ttsTtfbMs: 100 };

export const QUESTIONS: Record<string, string> = {
  'how far away is the moon': 'About three hundred and eighty thousand kilometres.',
  'tell me about the stars': 'Stars are huge balls of hot gas.',
  'what is a comet': 'A comet is a ball of ice and dust.',
  'how hot is the sun': 'Its surface is about five thousand five hundred degrees.',
};
const LONG_QUESTION = 'tell me about the planets';
const LONG_ANSWER =
  'There are eight planets. Mercury is closest to the sun and has almost no air. Venus is ' +
  'covered in thick clouds. Earth is our home. Mars is red and dusty. Jupiter is the largest ' +
  'of all. Saturn has bright rings. Uranus and Neptune are cold giants far away.';
export const INTERRUPTION = 'wait a moment';
const REPLIES = { ...QUESTIONS, planets: LONG_ANSWER, wait: 'Of course.' };
/** What Parley's character knows: a few chunks, so each turn's retrieval finds something. */
const KNOWLEDGE = [
  '# The Moon\n\nThe Moon is about 384,000 km from Earth. It has no air and its day lasts a month.',
  '# Stars\n\nStars are huge balls of hot gas that shine by fusing hydrogen into helium.',
  '# Comets\n\nA comet is a ball of ice and dust; near the Sun it grows a glowing tail.',
  '# The Sun\n\nThe surface of the Sun is about 5,500 degrees; its core is millions of degrees.',
  ...Object.entries(QUESTIONS).map(([question, answer]) => `## ${question}\n\n${answer}`),
].join('\n\n');

/** What a measuring child is asked for. */
export type Measure = 'parley-turns' | 'bare-turns' | 'barge-ins';

/** What a measuring child sends back, one message per sample. */
export interface SampleMessage {
  sample: number;
  phases?: TurnPhases;
  /** Reply texts the speech emulator had to synthesise on demand in this turn (should be 0). */
  speechMisses?: number;
}

/**
 * The Cartesia emulator's speech, synthesised once per text. Flite on this machine takes
 * 100-700 ms a sentence (more under load), which would sit on top of the emulator's fixed
 * first-byte latency; the real provider's synthesis does not run on our CPU. `misses` counts
 * texts synthesised on demand during a session (0 means every reply came from the cache).
 */
class SpeechCache {
  misses = 0;
  readonly #audio = new Map<string, Promise<Pcm16Audio>>();

  speak = (text: string): Promise<Pcm16Audio> => {
    const key = text.trim();
    let audio = this.#audio.get(key);
    if (audio === undefined) {
      this.misses += 1;
      audio = synthesizeSpeech(key);
      this.#audio.set(key, audio);
    }
    return audio;
  };

  /**
   * Synthesises `texts` ahead, whole and cut into the pieces the Cartesia plugin sends (its
   * sentence tokenizer, 8-word minimum, in @livekit/agents-plugin-cartesia 1.8).
   */
  async prepare(texts: string[]): Promise<void> {
    const sentences = new tokenize.basic.SentenceTokenizer({ minSentenceLength: 8 });
    const pieces = texts.flatMap((text) => [text, ...sentences.tokenize(text)]);
    await Promise.all(pieces.map((piece) => this.speak(piece)));
    this.misses = 0;
  }
}

interface Session {
  harness: VoiceHarness;
  /** What the Whisper emulator will hear next (set before each utterance). */
  nextTranscript: { text: string };
  speech: SpeechCache;
}

async function startSession(
  database: DatabaseHandle,
  variant: 'parley' | 'bare',
  speech: SpeechCache,
): Promise<Session> {
  const { room, character } = await makeConversation(database.db);
  await speech.prepare([
    ...Object.values(REPLIES),
    ...(character.greeting ? [character.greeting] : []),
  ]);
  const nextTranscript = { text: '' };
  const harness = await startVoiceHarness({
    db: database.db,
    chatRoomId: room.id,
    variant,
    openai: {
      reply: scriptedReplies(REPLIES),
      transcribe: () => nextTranscript.text,
      ttftMs: LATENCY.llmTtftMs,
      sttLatencyMs: LATENCY.sttMs,
    },
    cartesia: { ttfbMs: LATENCY.ttsTtfbMs, speak: speech.speak },
  });
  // Parley's character knows things (every turn retrieves) and greets a new conversation;
  // the bare agent has neither.
  if (variant === 'parley') {
    await harness.brain.ingestDocument(
      await createDocument(database.db, {
        characterId: character.id,
        title: 'sky.md',
        contentType: 'text/markdown',
        content: KNOWLEDGE,
      }),
    );
    await harness.playedOut(await harness.nextReply(0, 60_000), 60_000);
  }
  await harness.idle(30_000);
  return { harness, nextTranscript, speech };
}

/** One question and its reply played out; the reply's latency and phases. */
async function turn(session: Session, question: string): Promise<SampleMessage> {
  const { harness, nextTranscript, speech } = session;
  speech.misses = 0;
  nextTranscript.text = question;
  const said = await harness.say(question);
  const reply = await harness.nextReply(said.endedAt, 30_000);
  await harness.playedOut(reply, 60_000);
  await harness.idle(30_000);
  const phases = turnPhases(
    harness.timeline,
    said.endedAt,
    reply,
    harness.llmArrivals,
    harness.retrievals,
  );
  return { sample: reply.firstFrameAt - said.endedAt, phases, speechMisses: speech.misses };
}

/**
 * End of speech -> first reply frame, `turns` times, after one turn that is not counted: the
 * first turn of a session opens the LLM's HTTP and the TTS's WebSocket connections, which a
 * bare session (no greeting) would otherwise pay and Parley's (which greets) would not.
 */
async function timeTurns(
  session: Session,
  turns: number,
  report: (message: SampleMessage) => void,
): Promise<void> {
  const phrases = Object.keys(QUESTIONS);
  await turn(session, phrases[phrases.length - 1] ?? '');
  for (let i = 0; i < turns; i++) report(await turn(session, phrases[i % phrases.length] ?? ''));
}

/** Onset of user speech during a long reply -> reply audio paused or cleared. */
async function timeBargeIns(
  session: Session,
  count: number,
  report: (message: SampleMessage) => void,
): Promise<void> {
  const { harness, nextTranscript } = session;
  for (let i = 0; i < count; i++) {
    nextTranscript.text = LONG_QUESTION;
    const question = await harness.say(LONG_QUESTION);
    const reply = await harness.nextReply(question.endedAt, 30_000);
    await waitFor(() => (reply.playedMs > 1_500 ? true : undefined), 'the reply to play a while');
    nextTranscript.text = INTERRUPTION;
    const interruption = await harness.say(INTERRUPTION);
    await harness.playedOut(reply, 60_000);
    const stoppedAt = harness.output.stopOf(reply, interruption.startedAt);
    report({ sample: (stoppedAt ?? Number.NaN) - interruption.startedAt });
    await harness.playedOut(await harness.nextReply(interruption.endedAt, 30_000), 60_000);
    await harness.idle(30_000);
  }
}

/** A migrated embedded database in a temporary directory, removed after `work`. */
async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  const database = await openDatabase({ dataDir });
  try {
    await database.migrate();
    return await work(database);
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The settings the running session really uses that its turns' floor depends on. */
function floorInputs(harness: VoiceHarness): FloorInputs {
  const { turnHandling } = harness.session.sessionOptions;
  return {
    vadSilenceMs: harness.models.vad.minSilenceDuration ?? Number.NaN,
    minDelayMs: turnHandling.endpointing.minDelay,
    preemptiveLlm: turnHandling.preemptiveGeneration.enabled,
    preemptiveTts: turnHandling.preemptiveGeneration.preemptiveTts,
    sttMs: LATENCY.sttMs,
    llmMs: LATENCY.llmTtftMs,
    ttsMs: LATENCY.ttsTtfbMs,
  };
}

/** One measuring run in this (child) process: a fresh session, samples sent as they come. */
async function measureInChild(measure: Measure, count: number): Promise<void> {
  await withDatabase(async (database) => {
    const speech = new SpeechCache();
    const variant = measure === 'bare-turns' ? 'bare' : 'parley';
    const session = await startSession(database, variant, speech);
    process.send?.({ floor: floorInputs(session.harness) });
    const report = (message: SampleMessage) => process.send?.(message);
    if (measure === 'barge-ins') await timeBargeIns(session, count, report);
    else await timeTurns(session, count, report);
    await session.harness.close();
  });
  process.send?.({ done: true });
}

if (isBenchChild()) {
  process.once('message', (message) => {
    const { measure, count } = message as { measure: Measure; count: number };
    void measureInChild(measure, count).then(() => process.exit(0));
  });
}

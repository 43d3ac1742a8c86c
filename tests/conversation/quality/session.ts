import { inference, tokenize } from '@livekit/agents';
import { synthesizeSpeech } from '../../../agent/providers/local/flite.js';
import type { Pcm16Audio } from '../../../agent/providers/local/wav.js';
import { TURN_HANDLING, turnHandling } from '../../../agent/voice/session.js';
import { PARLEY_VAD_OPTIONS } from '../../../agent/voice/vad.js';
import type { Executor } from '../../../db/client.js';
import { makeConversation } from '../../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness } from '../../voice/harness.js';
import { scriptedReplies } from '../../voice/script.js';
import { ScriptListener } from './listener.js';
import { FALLBACK_ANSWER, REPLIES } from './scenarios.js';

/** The emulated providers' fixed latencies (the voice benchmark's, issue 7's example figures). */
export const LATENCY = { sttMs: 150, llmTtftMs: 250, ttsTtfbMs: 100 };

/**
 * The ways the suite runs: Parley with the end-of-turn model, with VAD endpointing and the
 * transcript's cues, with VAD-only endpointing, and a bare `AgentSession` with agents' defaults
 * and the same plugins.
 */
export type QualityConfig = 'parley-model' | 'parley-text' | 'parley-vad' | 'bare';

/** The suite's configuration for Parley with a TURN_DETECTION setting. */
export function parleyConfig(mode: 'model' | 'text' | 'vad'): QualityConfig {
  return `parley-${mode}`;
}

export interface QualitySession {
  config: QualityConfig;
  harness: VoiceHarness;
  listener: ScriptListener;
  chatRoomId: number;
  /** Audio length of each reply text the character can say, for what-was-played checks. */
  replyMs: Map<string, number>;
}

/**
 * The character's voice (Cartesia emulator), synthesised before the conversation: flite takes
 * 100-700 ms a sentence on this machine, which would sit on top of the emulator's fixed
 * latency. Whole replies and the sentence pieces the Cartesia plugin sends.
 */
async function replyVoice(
  texts: string[],
): Promise<{ speak: (text: string) => Promise<Pcm16Audio>; replyMs: Map<string, number> }> {
  const cache = new Map<string, Promise<Pcm16Audio>>();
  const speak = (text: string) => {
    const key = text.trim();
    let audio = cache.get(key);
    if (audio === undefined) {
      audio = synthesizeSpeech(key);
      cache.set(key, audio);
    }
    return audio;
  };
  const sentences = new tokenize.basic.SentenceTokenizer({ minSentenceLength: 8 });
  const replyMs = new Map<string, number>();
  for (const text of texts) {
    const pieces = await Promise.all([text, ...sentences.tokenize(text)].map(speak));
    const whole = pieces[0];
    if (whole !== undefined) replyMs.set(text, (whole.samples.length / whole.sampleRate) * 1000);
  }
  return { speak, replyMs };
}

/** Settings under tuning: configuration (e.g. `TURN_MIN_DELAY_MS`) and Silero's silence. */
export interface QualityTuning {
  env?: Record<string, string>;
  vadSilenceMs?: number;
  /** Barge-in settings over Parley's (`TURN_HANDLING.interruption`); VAD-only sessions. */
  interruption?: InterruptionTuning;
  /** The emulated speech-to-text's latency instead of {@link LATENCY}'s (a slower Whisper). */
  sttMs?: number;
}

export type InterruptionTuning = Partial<typeof TURN_HANDLING.interruption> & { minWords?: number };

/**
 * A voice session in a new room of `db` for the suite, ready to talk: the greeting (Parley's
 * sessions greet) has played.
 */
export async function startQualitySession(
  db: Executor,
  config: QualityConfig,
  tuning: QualityTuning = {},
): Promise<QualitySession> {
  const { env = {}, vadSilenceMs, interruption, sttMs = LATENCY.sttMs } = tuning;
  const { room, character } = await makeConversation(db);
  const listener = new ScriptListener();
  const texts = [...Object.values(REPLIES), FALLBACK_ANSWER, character.greeting ?? ''];
  const voice = await replyVoice(texts.filter((t) => t !== ''));
  const harness = await startVoiceHarness({
    db,
    chatRoomId: room.id,
    variant: config === 'bare' ? 'bare' : 'parley',
    env: { TURN_DETECTION: config === 'bare' ? 'vad' : config.slice('parley-'.length), ...env },
    openai: {
      reply: scriptedReplies(REPLIES, FALLBACK_ANSWER),
      transcribe: listener.transcribe,
      ttftMs: LATENCY.llmTtftMs,
      sttLatencyMs: sttMs,
    },
    cartesia: { ttfbMs: LATENCY.ttsTtfbMs, speak: voice.speak },
    ...(interruption === undefined
      ? {}
      : {
          overrides: {
            turnHandling: {
              ...turnHandling(undefined),
              interruption: { ...TURN_HANDLING.interruption, ...interruption },
            },
          },
        }),
    ...(vadSilenceMs === undefined
      ? {}
      : {
          models: (models) => ({
            ...models,
            vad: new inference.VAD({ ...PARLEY_VAD_OPTIONS, minSilenceDuration: vadSilenceMs }),
          }),
        }),
  });
  if (config !== 'bare') await harness.playedOut(await harness.nextReply(0, 60_000), 60_000);
  await harness.idle(30_000);
  return { config, harness, listener, chatRoomId: room.id, replyMs: voice.replyMs };
}

import {
  type inference,
  type ipc,
  type llm,
  type stt,
  type tts,
  type VAD,
  voice,
} from '@livekit/agents';
import type OpenAI from 'openai';
import { type Config, TURN_DEFAULTS } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { CharacterAgent } from '../character-agent.js';
import { cartesiaConfigured, createCartesiaTTS } from '../providers/cartesia.js';
import { FliteTTS } from '../providers/local/flite-tts.js';
import { PocketsphinxSTT } from '../providers/local/pocketsphinx-stt.js';
import { createLLM, createSTT, llmConnectOptions } from '../providers/openai.js';
import { openAIConfigured } from '../providers/openai-client.js';
import { apologiseForFailedTurns } from './apology.js';
import { BackchannelGate } from './backchannel.js';
import { reportFailedRecognitions } from './reported-stt.js';
import { TranscriptCueDetector } from './turn-cues.js';
import { createTurnDetector } from './turn-detection.js';

export type VoiceConfig = Pick<Config, 'openai' | 'cartesia' | 'providers' | 'voice'>;

/** What decides, besides the silence, that a turn is over: the audio model or the transcript. */
export type TurnDetector = inference.TurnDetector | TranscriptCueDetector;

/**
 * The models of a voice turn: no LLM when none is configured (see CharacterAgent); a turn
 * detector with `TURN_DETECTION=model` (the end-of-turn model) or `text` (transcript cues).
 */
export interface VoiceModels {
  vad: VAD;
  stt: stt.STT;
  llm: llm.LLM | undefined;
  tts: tts.TTS;
  turnDetector?: TurnDetector;
}

/**
 * Parley's turn-taking with `TURN_DETECTION=vad`: VAD endpointing, barge-in after
 * 400 ms of speech with resume on a false interruption, and preemptive generation: the
 * LLM and the speech synthesis start on the final transcript, before the turn is committed.
 *
 * The endpointing delay counts from the last speech, not from Silero's end of speech (see
 * `audio_recognition.ts` in @livekit/agents); the turn commits once it has passed and a
 * transcript is in. The delays come from the configuration (`TURN_DEFAULTS` in core/config.ts,
 * tuned on the conversation-quality suite: 1,600 ms for VAD-only, so a pause of up to ~1.2 s
 * inside a sentence does not end the turn); {@link turnHandling} puts them in, with the turn
 * detector of `text` (the default: the transcript's cues, ./turn-cues.ts) or `model`. A pause
 * longer than Silero's 350 ms silence sends what was said so far to speech-to-text and starts
 * a preemptive reply, which is replaced when the user goes on.
 */
export const TURN_HANDLING = {
  turnDetection: 'vad',
  endpointing: {
    mode: 'fixed',
    minDelay: TURN_DEFAULTS.vad.minDelayMs,
    maxDelay: TURN_DEFAULTS.vad.maxDelayMs,
  },
  interruption: {
    mode: 'vad',
    minDuration: 400,
    resumeFalseInterruption: true,
    falseInterruptionTimeout: 2_000,
  },
  preemptiveGeneration: { enabled: true, preemptiveTts: true },
} satisfies Partial<voice.AgentSessionOptions['turnHandling']>;

type Delays = Pick<VoiceConfig['voice']['endpointing'], 'minDelayMs' | 'maxDelayMs'>;

/**
 * The turn handling for a session: {@link TURN_HANDLING} with the configured endpointing and
 * resume delay (how long a reply paused by the user's voice waits, once they are quiet, for
 * words before it goes on: `TURN_RESUME_DELAY_MS`), and the turn detector when there is one.
 * The transcript cues are asked once the turn so far has a final transcript, the model after
 * 200 ms of silence; the turn then ends `minDelay` after the last speech when the detector says
 * the turn is likely over, `maxDelay` after it when not (the transcript cues, for an ending that
 * may go on, set a middle one: `TURN_UNSURE_DELAY_MS`, see ./turn-cues.ts). For the model, Parley's 800 ms / 3 s
 * rather than agents' defaults for an audio detector (300 ms / 2.5 s): those assume a
 * streaming speech-to-text, while Parley's (Whisper behind the VAD) only hears a phrase after
 * 350 ms of silence, and the suite's tuning rows found no shorter setting with fewer cut-offs.
 */
export function turnHandling(
  turnDetector: TurnDetector | undefined,
  endpointing: Delays = TURN_DEFAULTS[detectionOf(turnDetector)],
  resumeDelayMs: number = TURN_HANDLING.interruption.falseInterruptionTimeout,
): NonNullable<voice.AgentSessionOptions['turnHandling']> {
  const { minDelayMs: minDelay, maxDelayMs: maxDelay } = endpointing;
  const handling = {
    ...TURN_HANDLING,
    endpointing: { mode: 'fixed' as const, minDelay, maxDelay },
    interruption: { ...TURN_HANDLING.interruption, falseInterruptionTimeout: resumeDelayMs },
  };
  if (turnDetector === undefined) return handling;
  return { ...handling, turnDetection: turnDetector };
}

function detectionOf(turnDetector: TurnDetector | undefined): keyof typeof TURN_DEFAULTS {
  if (turnDetector === undefined) return 'vad';
  return turnDetector instanceof TranscriptCueDetector ? 'text' : 'model';
}

/**
 * The models for one character's voice session: OpenAI (or a compatible server) for
 * speech-to-text and the LLM, Cartesia in the character's voice. Without an OpenAI
 * configuration speech-to-text falls back to pocketsphinx, without a Cartesia key speech
 * falls back to flite: both offline, both far below the real providers. Without an OpenAI
 * configuration there is no LLM at all: the agent says what to configure instead of replying.
 */
export function voiceModels(
  config: VoiceConfig,
  deps: { openai: OpenAI; vad: VAD; inferenceExecutor?: ipc.InferenceExecutor },
  character: { voiceId: string | null; language: string },
): VoiceModels {
  const stt = openAIConfigured(config)
    ? createSTT(config, deps.openai, character.language)
    : new PocketsphinxSTT();
  const tts = cartesiaConfigured(config) ? createCartesiaTTS(config, character) : new FliteTTS();
  const llm = openAIConfigured(config) ? createLLM(config, deps.openai) : undefined;
  const models = { vad: deps.vad, stt, llm, tts };
  const turnDetector = turnDetectorFor(config.voice, deps.inferenceExecutor, character.language);
  return turnDetector === undefined ? models : { ...models, turnDetector };
}

/** The TURN_DETECTION setting's detector: none for `vad`. */
function turnDetectorFor(
  voice: VoiceConfig['voice'],
  executor: ipc.InferenceExecutor | undefined,
  language: string,
): TurnDetector | undefined {
  switch (voice.turnDetection) {
    case 'vad':
      return undefined;
    case 'text':
      return new TranscriptCueDetector(language, {
        unsureMs: voice.endpointing.unsureDelayMs,
        openMs: voice.endpointing.maxDelayMs,
      });
    case 'model':
      return createTurnDetector(executor, voice.modelThreshold);
  }
}

export interface VoiceSessionParams {
  config: VoiceConfig;
  models: VoiceModels;
  agent: CharacterAgent;
  logger: Logger;
  /** Overrides for tests and benchmarks (for example a shorter endpointing delay). */
  overrides?: Partial<voice.AgentSessionOptions>;
}

/**
 * An `AgentSession` for one character in one room. The caller stores its transcript
 * (`storeTranscript`) and starts it with its own audio input and output: a LiveKit
 * room, a WebRTC peer, or a test harness. A non-streaming STT's failed recognitions are
 * reported to the session, so the user hears an apology; with `TURN_BACKCHANNELS=resume` its
 * backchannels over a reply are dropped, so the paused reply resumes (./backchannel.ts).
 */
export function createVoiceSession(params: VoiceSessionParams): voice.AgentSession {
  const connOptions = llmConnectOptions(params.config);
  // A lost utterance becomes a session Error event, like any other provider failure.
  const reported = reportFailedRecognitions(params.models.stt, (error) =>
    session.emit(voice.AgentSessionEventTypes.Error, voice.createErrorEvent(error, reported)),
  );
  const backchannels =
    params.config.voice.backchannels === 'resume' ? new BackchannelGate(params.logger) : undefined;
  const { turnDetector, ...models } = params.models;
  const session = new voice.AgentSession({
    ...models,
    stt: backchannels?.wrap(reported) ?? reported,
    turnHandling: turnHandling(
      turnDetector,
      params.config.voice.endpointing,
      params.config.voice.resumeDelayMs,
    ),
    // The browser cancels its own echo; Parley runs no server-side AEC that needs warming up.
    aecWarmupDuration: null,
    connOptions: {
      llmConnOptions: connOptions,
      sttConnOptions: connOptions,
      ttsConnOptions: connOptions,
    },
    ...params.overrides,
  });
  if (turnDetector instanceof TranscriptCueDetector) turnDetector.steer(session);
  backchannels?.watch(session);
  apologiseForFailedTurns({ session, chatRoomId: params.agent.chatRoom.id, logger: params.logger });
  return session;
}

/** What a character's voice session is built from: the process's clients and VAD. */
export interface CharacterVoiceDeps {
  config: VoiceConfig;
  openai: OpenAI;
  /** The VAD the session's turn detection and STT use. */
  vad: VAD;
  /** Runs the end-of-turn model (`TURN_DETECTION=model`). */
  inferenceExecutor?: ipc.InferenceExecutor;
  logger: Logger;
  overrides?: Partial<voice.AgentSessionOptions>;
}

/**
 * The character's models and the session that runs them, the same whichever transport
 * carries the audio, with every committed message stored by the agent's conversation; the
 * caller plugs in its IO and owns releasing the models.
 */
export function createCharacterVoice(
  deps: CharacterVoiceDeps,
  agent: CharacterAgent,
): { session: voice.AgentSession; models: VoiceModels } {
  const models = voiceModels(deps.config, deps, agent.character);
  const { config, logger, overrides } = deps;
  const session = createVoiceSession({ config, logger, overrides, models, agent });
  storeTranscript(session, agent);
  return { session, models };
}

/**
 * Stores what the session commits: each user and character message, the greeting once, through
 * the agent's conversation (as a typed turn stores its own).
 */
export function storeTranscript(session: voice.AgentSession, agent: CharacterAgent): void {
  agent.conversation.listen(session);
}

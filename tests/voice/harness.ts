import { inference, type VAD, voice } from '@livekit/agents';
import type { Brain } from '../../agent/brain.js';
import { type CharacterAgent, loadCharacterAgent } from '../../agent/character-agent.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import { PocketsphinxSTT } from '../../agent/providers/local/pocketsphinx-stt.js';
import {
  createSpeechOutput,
  type SpeechOutput,
} from '../../agent/transports/webrtc/speech-output.js';
import {
  createVoiceSession,
  storeTranscript,
  type VoiceModels,
  voiceModels,
} from '../../agent/voice/session.js';
import { InProcessInferenceExecutor } from '../../agent/voice/turn-detection.js';
import { createVoiceVad } from '../../agent/voice/vad.js';
import { type Config, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import {
  type CartesiaEmulator,
  type CartesiaEmulatorOptions,
  startCartesiaEmulator,
} from '../dev-tools/providers/cartesia-emulator.js';
import { echoReply } from '../dev-tools/providers/openai-chat.js';
import type {
  OpenAIEmulator,
  OpenAIEmulatorOptions,
} from '../dev-tools/providers/openai-emulator.js';
import { startTestBrain } from '../helpers/brain.js';
import { type PlayedSegment, PlayoutRecorder } from './playout-recorder.js';
import { RecordingTextOutput } from './recording-text-output.js';
import {
  ScriptedAudioInput,
  type ScriptedAudioInputOptions,
  type Utterance,
} from './scripted-audio-input.js';
import { SessionTimeline } from './session-timeline.js';
import { type Span, timedRetriever } from './timed-retriever.js';

export type { PlayedSegment, Span, Utterance };

/** Which speech-to-text the session uses. */
export type HarnessSTT =
  | { kind: 'whisper' }
  /** Offline pocketsphinx restricted to `phrases` (transcripts are exact). */
  | { kind: 'pocketsphinx'; phrases: readonly string[] };

export interface VoiceHarnessOptions {
  db: Executor;
  /** The room to talk in; its character and history are loaded as the worker would. */
  chatRoomId: number;
  /** Default: Whisper through the OpenAI emulator. */
  stt?: HarnessSTT;
  openai?: OpenAIEmulatorOptions;
  cartesia?: CartesiaEmulatorOptions;
  /** More configuration (environment variable names), e.g. `PROVIDER_MAX_RETRIES`. */
  env?: Record<string, string>;
  /** Session options over Parley's (e.g. a bare session's defaults, for comparison). */
  overrides?: Partial<voice.AgentSessionOptions>;
  /**
   * `'bare'`: instead of Parley's session, a plain `voice.Agent` with the character's
   * instructions in a `voice.AgentSession` built with the agents' defaults, given only the
   * same VAD, STT, LLM and TTS plugins: no history, retrieval, transcript or apology. For
   * comparing Parley with what `@livekit/agents` does on its own. Default `'parley'`.
   */
  variant?: 'parley' | 'bare';
  input?: ScriptedAudioInputOptions;
  /** Pass the voice session's models through this before the session gets them. */
  models?: (models: VoiceModels) => VoiceModels;
}

/** A running voice session with a scripted microphone and the direct call's audio output sending to a recorder. */
export interface VoiceHarness {
  session: voice.AgentSession;
  /** The character agent, or in a bare session a plain agent with its instructions. */
  agent: voice.Agent;
  models: VoiceModels;
  config: Config;
  brain: Brain;
  openai: OpenAIEmulator;
  cartesia: CartesiaEmulator;
  input: ScriptedAudioInput;
  /** What the product's direct-call audio output sent, recorded at its RTP sink. */
  output: PlayoutRecorder;
  /** The captions the session released, in step with the audio (through the synchronizer). */
  captions: RecordingTextOutput;
  timeline: SessionTimeline;
  /** When the LLM emulator received each chat request (`performance.now()`). */
  llmArrivals: number[];
  /** When the character agent's knowledge retrievals ran (none in a bare session). */
  retrievals: Span[];
  /** Speaks `text` into the microphone at real-time pace; resolves when the speech has ended. */
  say(text: string): Promise<Utterance>;
  /** The first reply segment whose first frame came after `since` (performance.now()). */
  nextReply(since: number, timeoutMs?: number): Promise<PlayedSegment>;
  /** Waits until that segment has finished playing (drained or interrupted). */
  playedOut(segment: PlayedSegment, timeoutMs?: number): Promise<PlayedSegment>;
  /** Waits until the session is listening again with nothing left to play. */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops the session and everything it started; stores what is still buffered. */
  close(): Promise<void>;
}

const sharedVad = new Map<'parley' | 'bare', VAD>();
let fliteReady: Promise<unknown> | undefined;

/**
 * The VAD made once per process (as the worker's prewarm does): with Parley's settings, or
 * for a bare session with agents' defaults. Flite's worker thread is started and its
 * WebAssembly compiled before any session runs. Started lazily in the middle of a session,
 * the flite worker crashed the process (SIGSEGV inside V8 on the worker thread) in most runs
 * on this machine; started beforehand, never in our runs.
 */
export async function loadVad(variant: 'parley' | 'bare' = 'parley'): Promise<VAD> {
  fliteReady ??= synthesizeSpeech('ready');
  await fliteReady;
  let vad = sharedVad.get(variant);
  if (vad === undefined) {
    vad = variant === 'parley' ? createVoiceVad() : new inference.VAD();
    sharedVad.set(variant, vad);
  }
  return vad;
}

/** The environment a harness session runs with: every provider on a local emulator. */
function harnessConfig(openai: OpenAIEmulator, cartesia: CartesiaEmulator, env = {}): Config {
  return loadConfig({
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: 'test-key',
    CARTESIA_BASE_URL: cartesia.baseURL,
    CARTESIA_API_KEY: 'test-key',
    PROVIDER_MAX_RETRIES: '0',
    RAG_MIN_SIMILARITY: '0.2',
    ...env,
  });
}

/**
 * Starts Parley's real voice session for one chat room, as the LiveKit worker would, but with
 * the room's audio replaced by a scripted microphone and the direct call's audio output sending to a recorder: Silero VAD,
 * Whisper (OpenAI emulator) or pocketsphinx, the character agent with its RAG and history,
 * the LLM (OpenAI emulator) and Cartesia speech (emulator, through the real plugin), the
 * transcript stored in `db`. Every time the harness records is `performance.now()`.
 */
export async function startVoiceHarness(options: VoiceHarnessOptions): Promise<VoiceHarness> {
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const vad = await loadVad(options.variant);
    const llmArrivals: number[] = [];
    const retrievals: Span[] = [];
    const reply = options.openai?.reply ?? echoReply;
    const test = await startTestBrain(options.db, {
      emulator: {
        ...options.openai,
        reply: (request) => {
          llmArrivals.push(performance.now());
          return reply(request);
        },
      },
      env: options.env ?? {},
    });
    cleanup.push(test.close);
    const cartesia = await startCartesiaEmulator(options.cartesia);
    cleanup.push(cartesia.close);
    const config = harnessConfig(test.emulator, cartesia, options.env);
    const agent = await loadCharacterAgent(
      {
        db: options.db,
        retriever: timedRetriever(test.brain.retriever, retrievals),
        writer: test.brain.writer,
        historyMessages: config.rag.historyMessages,
      },
      options.chatRoomId,
    );
    // Like a direct call: no LiveKit job, so the end-of-turn model runs in this process.
    const inferenceExecutor = new InProcessInferenceExecutor();
    let models = voiceModels(
      config,
      { openai: test.brain.openai, vad, inferenceExecutor },
      agent.character,
    );
    if (options.stt?.kind === 'pocketsphinx') {
      models = { ...models, stt: new PocketsphinxSTT({ phrases: options.stt.phrases }) };
    }
    models = options.models?.(models) ?? models;
    const chosen = models;
    cleanup.push(() => closeModels(chosen));
    const { session, agent: running } =
      options.variant === 'bare'
        ? bareSession(models, agent)
        : {
            session: storedSession(
              createVoiceSession({
                config,
                models,
                agent,
                logger: createLogger({ level: 'silent' }),
                ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
              }),
              agent,
            ),
            agent,
          };
    const timeline = new SessionTimeline(session);
    const input = new ScriptedAudioInput(options.input);
    // The direct call's own outputs, with a recorder as the peer's RTP sender.
    const output = new PlayoutRecorder();
    const captions = new RecordingTextOutput();
    const speech = createSpeechOutput(output, captions);
    output.watch(speech.playout);
    cleanup.push(async () => {
      await session.close();
      await input.close();
      await speech.close();
    });
    await startSession(session, running, input, speech);
    return {
      session,
      agent: running,
      models,
      config,
      brain: test.brain,
      openai: test.emulator,
      cartesia,
      input,
      output,
      captions,
      timeline,
      llmArrivals,
      retrievals,
      say: (text) => input.say(text),
      nextReply: (since, timeoutMs) =>
        waitFor(
          () => output.segments.find((s) => s.firstFrameAt > since),
          () => `a reply to start playing; the session did:\n${timeline.describe(since)}`,
          timeoutMs,
        ),
      playedOut: (segment, timeoutMs) =>
        waitFor(
          () => (Number.isNaN(segment.endedAt) ? undefined : segment),
          'the reply to finish playing',
          timeoutMs,
        ),
      idle: (timeoutMs) =>
        waitFor(
          () => (session.agentState === 'listening' && output.queuedMs === 0 ? true : undefined),
          'the session to listen again',
          timeoutMs,
        ).then(() => undefined),
      close: () => runCleanup(cleanup),
    };
  } catch (error) {
    await runCleanup(cleanup);
    throw error;
  }
}

/**
 * `@livekit/agents` on its own: the agents' default session options (turn handling,
 * connection options, AEC warm-up), only the models given, and an agent with nothing but the
 * character's instructions.
 */
function bareSession(
  models: VoiceModels,
  character: CharacterAgent,
): { session: voice.AgentSession; agent: voice.Agent } {
  const session = new voice.AgentSession({
    vad: models.vad,
    stt: models.stt,
    llm: models.llm,
    tts: models.tts,
  });
  return { session, agent: new voice.Agent({ instructions: character.instructions }) };
}

async function startSession(
  session: voice.AgentSession,
  agent: voice.Agent,
  input: ScriptedAudioInput,
  speech: SpeechOutput,
): Promise<void> {
  session.input.audio = input;
  session.output.audio = speech.audio;
  session.output.transcription = speech.transcription;
  input.start();
  await session.start({ agent });
  // The microphone is live a moment before anyone talks, as in a real call: speech fed at
  // once lost its first word while the session's audio pipeline was still starting.
  const warm = input.framesSent + Math.ceil(MIC_WARMUP_MS / input.frameMs);
  await waitFor(() => (input.framesSent >= warm ? true : undefined), 'the microphone to run');
}

const MIC_WARMUP_MS = 1_000;

async function closeModels(models: VoiceModels): Promise<void> {
  await Promise.allSettled([models.stt.close(), models.tts.close(), models.llm?.aclose()]);
}

/** Runs the cleanups last-in first-out; every one runs even if another fails. */
async function runCleanup(cleanup: (() => Promise<void>)[]): Promise<void> {
  for (const step of cleanup.splice(0).reverse()) {
    await step().catch(() => {});
  }
}

/**
 * Polls `probe` every 20 ms until it gives a value; fails after `timeoutMs` (default 30 s,
 * generous because a loaded machine slows real-time audio work) naming what it waited for.
 */
export async function waitFor<T>(
  probe: () => T | undefined,
  what: string | (() => string),
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The session, its transcript stored as the product stores it. */
function storedSession(session: voice.AgentSession, agent: CharacterAgent): voice.AgentSession {
  storeTranscript(session, agent);
  return session;
}

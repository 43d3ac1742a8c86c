import { randomUUID } from 'node:crypto';
import { type APIConnectOptions, APIError, tokenize, tts } from '@livekit/agents';
import { toFrames } from './audio-frames.js';
import {
  DEFAULT_FLITE_VOICE,
  FLITE_VOICES,
  type FliteVoice,
  isFliteVoice,
  synthesizeSpeech,
} from './flite.js';

/** Options for {@link FliteTTS}. */
export interface FliteTTSOptions {
  /** One of {@link FLITE_VOICES}; defaults to {@link DEFAULT_FLITE_VOICE}. */
  voice?: FliteVoice;
  /** Rate of the frames it emits, in Hz; flite's audio is resampled to it. Default 24000. */
  sampleRate?: number;
  /** Length of each emitted frame, in milliseconds. Default 20. */
  frameMs?: number;
}

/**
 * LiveKit Agents TTS that speaks with Flite, in-process and offline: the local stand-in for
 * Cartesia. Not a streaming engine: `stream()` splits text into sentences and synthesises
 * each in turn, which is also what the agents framework does by itself for such engines.
 */
export class FliteTTS extends tts.TTS {
  label = 'parley.FliteTTS';
  readonly #voice: FliteVoice;
  readonly #frameMs: number;
  #sentenceAdapter: tts.StreamAdapter | undefined;

  constructor(options: FliteTTSOptions = {}) {
    super(options.sampleRate ?? 24_000, 1, { streaming: false });
    const voice = options.voice ?? DEFAULT_FLITE_VOICE;
    if (!isFliteVoice(voice)) {
      throw new Error(`Unknown flite voice "${voice}"; known: ${FLITE_VOICES.join(', ')}`);
    }
    this.#voice = voice;
    this.#frameMs = options.frameMs ?? 20;
  }

  override get model(): string {
    return `flite-${this.#voice}`;
  }

  override get provider(): string {
    return 'flite';
  }

  /** Speaks `text` as one utterance of fixed-size frames; the last is marked `final`. */
  synthesize(
    text: string,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ): FliteChunkedStream {
    const framing = { voice: this.#voice, sampleRate: this.sampleRate, frameMs: this.#frameMs };
    return new FliteChunkedStream(this, text, framing, connOptions, abortSignal);
  }

  /** Sentence by sentence, through the framework's own adapter (kept, so listeners don't pile up). */
  stream(options?: { connOptions?: APIConnectOptions }): tts.SynthesizeStream {
    this.#sentenceAdapter ??= new tts.StreamAdapter(this, new tokenize.basic.SentenceTokenizer());
    return this.#sentenceAdapter.stream(options);
  }

  override async close(): Promise<void> {
    await this.#sentenceAdapter?.close();
    this.#sentenceAdapter = undefined;
    await super.close();
  }
}

interface Framing {
  voice: FliteVoice;
  sampleRate: number;
  frameMs: number;
}

/** One `synthesize()` call: flite runs once, its audio is resampled and cut into frames. */
export class FliteChunkedStream extends tts.ChunkedStream {
  label = 'parley.FliteChunkedStream';
  readonly #text: string;
  readonly #framing: Framing;

  constructor(
    owner: FliteTTS,
    text: string,
    framing: Framing,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, owner, connOptions, abortSignal);
    this.#text = text;
    this.#framing = framing;
  }

  protected async run(): Promise<void> {
    try {
      const audio = await synthesizeSpeech(this.#text, { voice: this.#framing.voice });
      if (this.abortSignal.aborted) return;
      const frames = toFrames(audio, this.#framing.sampleRate, this.#framing.frameMs);
      const requestId = randomUUID();
      frames.forEach((frame, index) => {
        const final = index === frames.length - 1;
        this.queue.put({ requestId, segmentId: requestId, frame, final });
      });
    } catch (error) {
      // Flite failing is deterministic for a given text and voice, so retrying cannot help.
      throw new APIError(
        `flite synthesis failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          retryable: false,
        },
      );
    } finally {
      this.queue.close();
    }
  }
}

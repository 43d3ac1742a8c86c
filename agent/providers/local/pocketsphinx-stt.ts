import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIError, APITimeoutError, type AudioBuffer, asLanguageCode, stt } from '@livekit/agents';
import { resample, toMonoPcm } from './audio-frames.js';
import { phraseGrammar } from './jsgf.js';
import { type PocketsphinxOutcome, runPocketsphinx } from './pocketsphinx.js';
import { encodeWav } from './wav.js';

/** The only rate the en-us acoustic model accepts. */
const MODEL_RATE = 16_000;

/**
 * Silence added before and after each utterance. The CLI's own VAD (`-remove_silence`) learns
 * the noise floor from the first frames: audio that starts on a word (a VAD-cut segment, or an
 * answer heard over WebRTC) was missed about one time in four, because the resampler's dither
 * tips such a marginal case either way; with 250 ms each side it was recognised 24 times in 24.
 */
const PAD_SAMPLES = MODEL_RATE / 4;

/** Options for {@link PocketsphinxSTT}. */
export interface PocketsphinxSTTOptions {
  /**
   * When given, only these phrases can be recognised (through a generated JSGF grammar); the
   * transcript is then one of them, lower-cased, punctuation dropped. Every word must be in
   * pocketsphinx's dictionary. Without phrases it transcribes freely and often wrongly.
   */
  phrases?: readonly string[];
  /** Longest a recognition may run before it fails as retryable. Default 30000. */
  timeoutMs?: number;
  /** The CLI to run. Default `pocketsphinx_continuous` from the PATH. */
  command?: string;
  /** Where each recognition's scratch directory goes (removed afterwards). Default: os tmpdir. */
  tempDir?: string;
}

/**
 * LiveKit Agents STT that recognises English offline with CMU pocketsphinx, the local
 * stand-in for Whisper. It transcribes whole utterances only (`recognize()`); the agents
 * framework wraps it with its VAD-driven `stt.StreamAdapter` to use it in a voice session.
 */
export class PocketsphinxSTT extends stt.STT {
  label = 'parley.PocketsphinxSTT';
  readonly #grammar: string | undefined;
  readonly #timeoutMs: number;
  readonly #command: string | undefined;
  readonly #tempDir: string;

  constructor(options: PocketsphinxSTTOptions = {}) {
    super({ streaming: false, interimResults: false });
    this.#grammar = options.phrases === undefined ? undefined : phraseGrammar(options.phrases);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#command = options.command;
    this.#tempDir = options.tempDir ?? tmpdir();
  }

  override get model(): string {
    return this.#grammar === undefined ? 'en-us' : 'en-us-jsgf';
  }

  override get provider(): string {
    return 'pocketsphinx';
  }

  protected async _recognize(
    buffer: AudioBuffer,
    abortSignal?: AbortSignal,
  ): Promise<stt.SpeechEvent> {
    const audio = toSpeechInput(buffer);
    const dir = await mkdtemp(join(this.#tempDir, 'parley-pocketsphinx-'));
    try {
      const wavPath = join(dir, 'utterance.wav');
      await writeFile(wavPath, encodeWav({ ...audio, samples: padded(audio.samples) }));
      let grammarPath: string | undefined;
      if (this.#grammar !== undefined) {
        grammarPath = join(dir, 'phrases.gram');
        await writeFile(grammarPath, this.#grammar);
      }
      const outcome = await runPocketsphinx({
        wavPath,
        timeoutMs: this.#timeoutMs,
        ...(grammarPath === undefined ? {} : { grammarPath }),
        ...(abortSignal === undefined ? {} : { signal: abortSignal }),
        ...(this.#command === undefined ? {} : { command: this.#command }),
      });
      return finalTranscript(textOf(outcome), audio.samples.length / MODEL_RATE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Never streams by itself: `voice.AgentSession` adds `stt.StreamAdapter` with its VAD. */
  stream(): stt.SpeechStream {
    throw new Error('PocketsphinxSTT does not stream; wrap it in stt.StreamAdapter with a VAD');
  }
}

/** Checks and converts the frames the framework hands over into 16 kHz mono. */
function toSpeechInput(buffer: AudioBuffer): { samples: Int16Array; sampleRate: number } {
  let mono: { samples: Int16Array; sampleRate: number };
  try {
    mono = toMonoPcm(buffer);
  } catch (error) {
    throw new APIError(
      `pocketsphinx: unusable audio: ${error instanceof Error ? error.message : String(error)}`,
      {
        retryable: false,
      },
    );
  }
  if (mono.samples.length === 0) {
    throw new APIError('pocketsphinx: unusable audio: no samples', { retryable: false });
  }
  return { samples: resample(mono, MODEL_RATE), sampleRate: MODEL_RATE };
}

function padded(samples: Int16Array): Int16Array {
  const out = new Int16Array(samples.length + 2 * PAD_SAMPLES);
  out.set(samples, PAD_SAMPLES);
  return out;
}

function textOf(outcome: PocketsphinxOutcome): string {
  switch (outcome.kind) {
    case 'text':
      return outcome.text;
    case 'missing':
      throw new APIError(
        'pocketsphinx is not installed (Debian: apt-get install pocketsphinx pocketsphinx-en-us)',
        { retryable: false },
      );
    case 'timeout':
      throw new APITimeoutError({ message: 'pocketsphinx took too long' });
    case 'aborted':
      throw new APIError('pocketsphinx: recognition aborted', { retryable: false });
    case 'failed':
      // Same input, same engine, same failure: a retry cannot help.
      throw new APIError(`pocketsphinx failed: ${outcome.reason}`, { retryable: false });
  }
}

function finalTranscript(text: string, seconds: number): stt.SpeechEvent {
  return {
    type: stt.SpeechEventType.FINAL_TRANSCRIPT,
    alternatives: [
      { text, language: asLanguageCode('en'), startTime: 0, endTime: seconds, confidence: 0 },
    ],
  };
}

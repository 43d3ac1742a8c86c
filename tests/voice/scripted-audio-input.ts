import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import type { FliteVoice } from '../../agent/providers/local/flite.js';
import { FrameClock } from '../../agent/transports/webrtc/frame-clock.js';
import { rms } from '../audio/measure.js';
import { speechFrames } from '../audio/speech.js';

/** What the microphone did for one {@link ScriptedAudioInput.say}. `performance.now()` times. */
export interface Utterance {
  text: string;
  /** Speech audio fed, leading and trailing silence of the synthesis trimmed, in ms. */
  durationMs: number;
  /** When the first speech frame was handed to the session (a microphone sends a frame once captured). */
  startedAt: number;
  /** When the last speech frame was handed over: the exact end of the user's speech. */
  endedAt: number;
}

export interface ScriptedAudioInputOptions {
  /** Rate of the frames handed to the session. Default 24 kHz, as LiveKit's room input. */
  sampleRate?: number;
  /** Length of each frame. Default 10 ms, as LiveKit sends. */
  frameMs?: number;
  /** Flite voice of the user. Default flite's default. */
  voice?: FliteVoice;
}

/** Samples below this level at the edges of a synthesis are its silence, not speech. */
const SPEECH_RMS = 200;

interface Queued {
  frames: AudioFrame[];
  utterance: Utterance;
  abort: AbortSignal | undefined;
  done: (utterance: Utterance) => void;
}

/**
 * A microphone for `session.input.audio` playing a script: it never stops sending (silence when
 * nobody talks, as a real microphone), one frame per `frameMs` of wall clock, and `say()` puts
 * flite speech into the stream at real-time pace. Each utterance records exactly when its speech
 * began and ended, so latency can be measured from the true end of speech.
 */
export class ScriptedAudioInput extends voice.AudioInput {
  readonly sampleRate: number;
  readonly frameMs: number;
  /** Frames handed to the session so far (speech and silence). */
  framesSent = 0;
  private readonly voiceName: FliteVoice | undefined;
  private readonly silence: AudioFrame;
  private readonly clock: FrameClock;
  private readonly queue: Queued[] = [];
  private controller: ReadableStreamDefaultController<AudioFrame> | undefined;
  private closed = false;
  private background: Int16Array | undefined;
  private backgroundAt = 0;

  constructor(options: ScriptedAudioInputOptions = {}) {
    super();
    this.sampleRate = options.sampleRate ?? 24_000;
    this.frameMs = options.frameMs ?? 10;
    this.voiceName = options.voice;
    const perFrame = Math.round((this.sampleRate * this.frameMs) / 1000);
    this.silence = new AudioFrame(new Int16Array(perFrame), this.sampleRate, 1, perFrame);
    this.clock = new FrameClock(this.frameMs, () => this.tick());
    const frames = new ReadableStream<AudioFrame>(
      {
        start: (controller) => {
          this.controller = controller;
        },
      },
      // A session that stops reading must not make the microphone hold minutes of audio.
      { highWaterMark: 1_000 },
    );
    this.multiStream.addInputStream(frames);
  }

  /**
   * Sound under everything the microphone sends from now on (noise, music), looped; speech is
   * added on top of it. `undefined` goes back to digital silence between utterances.
   */
  setBackground(samples: Int16Array | undefined): void {
    this.background = samples?.length === 0 ? undefined : samples;
    this.backgroundAt = 0;
  }

  /** Starts the microphone (silence until something is said). */
  start(): void {
    this.clock.start();
  }

  /** Speech ready to say: synthesis happens before, so it costs no time while talking. */
  async prepare(text: string): Promise<AudioFrame[]> {
    const format = { sampleRate: this.sampleRate, frameMs: this.frameMs };
    return trimSilence(await speechFrames(text, format, this.voiceName));
  }

  /**
   * Says `text` (or plays frames from {@link prepare}) after anything already queued; resolves
   * when the last speech frame has been sent. An abort stops the speech mid-way.
   */
  async say(
    text: string,
    options: { frames?: AudioFrame[]; signal?: AbortSignal } = {},
  ): Promise<Utterance> {
    const frames = options.frames ?? (await this.prepare(text));
    const durationMs = frames.reduce(
      (ms, f) => ms + (f.samplesPerChannel / f.sampleRate) * 1000,
      0,
    );
    return new Promise<Utterance>((resolve) => {
      this.queue.push({
        frames: [...frames],
        utterance: { text, durationMs, startedAt: Number.NaN, endedAt: Number.NaN },
        abort: options.signal,
        done: resolve,
      });
    });
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.stop();
    try {
      this.controller?.close();
    } catch {
      // Already closed by a cancelled reader.
    }
    await super.close();
  }

  private tick(): boolean {
    if (this.closed) return false;
    const frame = this.withBackground(this.nextFrame());
    try {
      this.controller?.enqueue(frame);
      this.framesSent++;
    } catch {
      return false;
    }
    return true;
  }

  private withBackground(frame: AudioFrame): AudioFrame {
    const background = this.background;
    if (background === undefined) return frame;
    const count = frame.samplesPerChannel;
    const mixed = new Int16Array(count);
    for (let i = 0; i < count; i++) {
      const sum = (frame.data[i] ?? 0) + (background[this.backgroundAt] ?? 0);
      mixed[i] = Math.max(-32_768, Math.min(32_767, sum));
      this.backgroundAt = (this.backgroundAt + 1) % background.length;
    }
    return new AudioFrame(mixed, frame.sampleRate, 1, count);
  }

  private nextFrame(): AudioFrame {
    const current = this.queue[0];
    if (current === undefined) return this.silence;
    const frame = current.abort?.aborted ? undefined : current.frames.shift();
    const now = performance.now();
    if (frame !== undefined && Number.isNaN(current.utterance.startedAt)) {
      current.utterance.startedAt = now;
    }
    if (frame === undefined || current.frames.length === 0) {
      this.queue.shift();
      current.utterance.endedAt = now;
      if (Number.isNaN(current.utterance.startedAt)) current.utterance.startedAt = now;
      current.done(current.utterance);
    }
    return frame ?? this.silence;
  }
}

/** Drops the near-silent frames flite puts before and after the words. */
function trimSilence(frames: AudioFrame[]): AudioFrame[] {
  const loud = frames.map((f) => rms(f.data.subarray(0, f.samplesPerChannel)) >= SPEECH_RMS);
  const first = loud.indexOf(true);
  const last = loud.lastIndexOf(true);
  if (first < 0) throw new Error('the synthesised speech is silent');
  return frames.slice(first, last + 1);
}

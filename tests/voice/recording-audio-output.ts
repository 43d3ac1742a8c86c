import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { FrameClock } from '../../agent/transports/webrtc/frame-clock.js';
import { rms } from '../audio/measure.js';

/**
 * One reply (or part of one) between two flushes, as the session counts segments. Times are
 * `performance.now()` milliseconds.
 */
export interface PlayedSegment {
  index: number;
  /** Every frame the session handed over, in order. */
  frames: AudioFrame[];
  /** When the session handed over the first frame. */
  firstFrameAt: number;
  /** When playback of the first frame began (NaN if it never played). */
  startedAt: number;
  /** When the last 10 ms that played began (NaN if nothing played). */
  lastPlayedAt: number;
  /** When the segment was finished: drained, or cut by `clearBuffer` (NaN while playing). */
  endedAt: number;
  /** Audio handed over, in milliseconds. */
  capturedMs: number;
  /** Audio played, in milliseconds. */
  playedMs: number;
  /** Loudest 10 ms of what played (RMS): a silent reply measures 0. */
  peakRms: number;
  flushed: boolean;
  interrupted: boolean;
}

interface Playing extends PlayedSegment {
  pending: Int16Array[];
}

export interface RecordingAudioOutputOptions {
  /** Rate the session resamples its speech to. Default 24 kHz. */
  sampleRate?: number;
  /** How far `captureFrame` may run ahead of playback. Default 200 ms, as LiveKit's room output. */
  queueSizeMs?: number;
}

const TICK_MS = 10;

/**
 * A loudspeaker for `session.output.audio` that plays in real time and keeps everything: each
 * segment's frames and when it started and stopped. `clearBuffer()` (barge-in) drops what is
 * queued at once and reports the segment interrupted at the position reached, `pause()` holds
 * the playhead, and a drained segment reports its full length, as LiveKit's room output does.
 */
export class RecordingAudioOutput extends voice.AudioOutput {
  readonly segments: PlayedSegment[] = [];
  /** When `clearBuffer()` was called, each time. */
  readonly clears: number[] = [];
  /** When `pause()` was called (a possible interruption, before the transcript decides). */
  readonly pauses: number[] = [];
  private readonly queueSizeMs: number;
  private readonly clock = new FrameClock(TICK_MS, () => this.tick());
  private readonly queue: Playing[] = [];
  private open: Playing | undefined;
  private paused = false;
  private closed = false;
  private generation = 0;
  private spaceWaiters: (() => void)[] = [];

  constructor(options: RecordingAudioOutputOptions = {}) {
    super(options.sampleRate ?? 24_000, undefined, { pause: true });
    this.queueSizeMs = options.queueSizeMs ?? 200;
  }

  /** Audio queued and not yet played, in milliseconds. */
  get queuedMs(): number {
    return this.queue.reduce((ms, s) => ms + s.capturedMs - s.playedMs, 0);
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const generation = this.generation;
    await this.waitForSpace(generation);
    if (this.closed || generation !== this.generation) return;
    // The base class counts a new segment synchronously; ours must open in the same turn.
    const counted = super.captureFrame(frame);
    const segment = this.openSegment();
    segment.frames.push(frame);
    segment.pending.push(frame.data.subarray(0, frame.samplesPerChannel * frame.channels));
    segment.capturedMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
    if (!this.paused) this.clock.start();
    await counted;
  }

  override flush(): void {
    super.flush();
    const segment = this.open;
    if (segment === undefined) return;
    this.open = undefined;
    segment.flushed = true;
    if (!this.paused) this.clock.start();
  }

  override clearBuffer(): void {
    this.clears.push(performance.now());
    this.generation++;
    if (this.open !== undefined) {
      super.flush();
      this.open = undefined;
    }
    for (const segment of this.queue.splice(0)) this.finish(segment, true);
    this.wakeWaiters();
  }

  override abandonOpenSegment(): void {
    super.abandonOpenSegment();
    const segment = this.open;
    this.open = undefined;
    if (segment === undefined) return;
    const index = this.queue.indexOf(segment);
    if (index >= 0) this.queue.splice(index, 1);
  }

  override pause(): void {
    this.pauses.push(performance.now());
    this.paused = true;
    this.clock.stop();
    super.pause();
  }

  override resume(): void {
    this.paused = false;
    if (this.queue.length > 0) this.clock.start();
    super.resume();
  }

  /** Stops playing; what is queued ends as interrupted. */
  async close(): Promise<void> {
    this.clearBuffer();
    this.closed = true;
    this.clock.stop();
  }

  private openSegment(): Playing {
    if (this.open === undefined) {
      this.open = {
        index: this.segments.length,
        frames: [],
        pending: [],
        firstFrameAt: performance.now(),
        startedAt: Number.NaN,
        lastPlayedAt: Number.NaN,
        endedAt: Number.NaN,
        capturedMs: 0,
        playedMs: 0,
        peakRms: 0,
        flushed: false,
        interrupted: false,
      };
      this.segments.push(this.open);
      this.queue.push(this.open);
    }
    return this.open;
  }

  /** Plays the next 10 ms, or finishes a drained segment. False stops the clock. */
  private tick(): boolean {
    const segment = this.queue[0];
    if (this.paused || this.closed || segment === undefined) return false;
    const samples = takeSamples(segment.pending, (this.sampleRate ?? 24_000) / (1000 / TICK_MS));
    if (samples.length === 0) {
      // Nothing to play: the segment is done, or the TTS is behind (keep waiting).
      if (segment.flushed) this.finish(segment, false);
      return true;
    }
    if (Number.isNaN(segment.startedAt)) {
      segment.startedAt = performance.now();
      this.onPlaybackStarted(Date.now());
    }
    segment.lastPlayedAt = performance.now();
    segment.playedMs += (samples.length / (this.sampleRate ?? 24_000)) * 1000;
    segment.peakRms = Math.max(segment.peakRms, rms(samples));
    this.wakeWaiters();
    return true;
  }

  private finish(segment: Playing, interrupted: boolean): void {
    const index = this.queue.indexOf(segment);
    if (index >= 0) this.queue.splice(index, 1);
    segment.pending = [];
    segment.interrupted = interrupted;
    segment.endedAt = performance.now();
    this.onPlaybackFinished({ playbackPosition: segment.playedMs / 1000, interrupted });
  }

  private async waitForSpace(generation: number): Promise<void> {
    while (!this.closed && generation === this.generation && this.queuedMs >= this.queueSizeMs) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  private wakeWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** Removes up to `count` samples from the front of `chunks` and returns them. */
function takeSamples(chunks: Int16Array[], count: number): Int16Array {
  const out = new Int16Array(count);
  let filled = 0;
  while (filled < count) {
    const chunk = chunks[0];
    if (chunk === undefined) break;
    const n = Math.min(count - filled, chunk.length);
    out.set(chunk.subarray(0, n), filled);
    filled += n;
    if (n === chunk.length) chunks.shift();
    else chunks[0] = chunk.subarray(n);
  }
  return out.subarray(0, filled);
}

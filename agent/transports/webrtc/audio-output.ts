import { voice } from '@livekit/agents';
import { type AudioFrame, AudioResampler } from '@livekit/rtc-node';
import { FrameClock } from './frame-clock.js';
import { OPUS_FRAME_SAMPLES, OPUS_RATE, OpusRtpSender, type RtpSink } from './opus-rtp-sender.js';
import { monoFrame, monoSamples, PcmChunker } from './pcm.js';

const FRAME_MS = (OPUS_FRAME_SAMPLES / OPUS_RATE) * 1000;

export interface WebRtcAudioOutputOptions {
  /** Where the Opus RTP goes: the audio transceiver's `RTCRtpSender` of a {@link PeerSession}. */
  sink: RtpSink;
  /** How far `captureFrame` may run ahead of playback before it waits. Default 200 ms, as LiveKit's room output. */
  queueSizeMs?: number;
}

/** One reply (or part of one) between two flushes, as AgentSession counts segments. */
interface Segment {
  frames: Int16Array[];
  flushed: boolean;
  started: boolean;
  playedSamples: number;
}

/** A stretch of one segment played without a pause, reported as `playbackProgressed`. */
interface Run {
  segment: Segment;
  startedAt: number;
  offsetSamples: number;
}

/**
 * The agent's voice on a WebRTC peer: an AgentSession `output.audio` that encodes the session's
 * speech as Opus and sends it in real time on the peer's audio track.
 *
 * Frames are queued and one 20 ms packet leaves per 20 ms of wall clock, so "played" means
 * "sent": `playbackPosition` counts the audio that went out, which is what the browser heard
 * less its jitter buffer (tens of milliseconds). `clearBuffer()` (barge-in) drops everything
 * queued at once and reports the segment interrupted at the position reached.
 */
export class WebRtcAudioOutput extends voice.AudioOutput {
  private readonly rtp: OpusRtpSender;
  private readonly clock = new FrameClock(FRAME_MS, () => this.tick());
  private readonly chunker = new PcmChunker(OPUS_FRAME_SAMPLES);
  private readonly queueSizeFrames: number;
  private readonly segments: Segment[] = [];
  private open: Segment | undefined;
  private run: Run | undefined;
  private resampler: AudioResampler | undefined;
  private paused = false;
  private closed = false;
  private generation = 0;
  private spaceWaiters: (() => void)[] = [];

  constructor(options: WebRtcAudioOutputOptions) {
    super(OPUS_RATE, undefined, { pause: true });
    this.rtp = new OpusRtpSender(options.sink);
    this.queueSizeFrames = Math.max(1, Math.ceil((options.queueSizeMs ?? 200) / FRAME_MS));
  }

  /** Packets sent so far, for tests and metrics. */
  get packetsSent(): number {
    return this.rtp.packetsSent;
  }

  /** Audio queued and not yet sent, in milliseconds. */
  get queuedMs(): number {
    const frames = this.segments.reduce((sum, s) => sum + s.frames.length, 0);
    return frames * FRAME_MS;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const generation = this.generation;
    await this.waitForSpace(generation);
    if (this.closed || generation !== this.generation) return;
    // The base class counts a new segment synchronously; ours must open in the same turn.
    const counted = super.captureFrame(frame);
    const segment = this.openSegment();
    for (const chunk of this.chunker.push(this.toOpusRate(frame))) segment.frames.push(chunk);
    if (!this.paused) this.clock.start();
    await counted;
  }

  override flush(): void {
    super.flush();
    const segment = this.open;
    if (segment === undefined) return;
    this.open = undefined;
    this.flushResampler(segment);
    const tail = this.chunker.flushPadded();
    if (tail !== undefined) segment.frames.push(tail);
    segment.flushed = true;
    if (!this.paused) this.clock.start();
  }

  override clearBuffer(): void {
    this.generation++;
    this.chunker.clear();
    this.closeResampler();
    if (this.open !== undefined) {
      super.flush();
      this.open = undefined;
    }
    this.endRun();
    for (const segment of this.segments.splice(0)) this.finish(segment, true);
    this.wakeWaiters();
  }

  override abandonOpenSegment(): void {
    super.abandonOpenSegment();
    const segment = this.open;
    this.open = undefined;
    if (segment === undefined) return;
    if (this.run?.segment === segment) this.endRun();
    const index = this.segments.indexOf(segment);
    if (index >= 0) this.segments.splice(index, 1);
    this.chunker.clear();
    this.closeResampler();
  }

  override pause(): void {
    this.paused = true;
    this.endRun();
    this.clock.stop();
    super.pause();
  }

  override resume(): void {
    this.paused = false;
    if (this.segments.length > 0) this.clock.start();
    super.resume();
  }

  /** Stops sending and drops what is queued; pending segments end as interrupted. */
  async close(): Promise<void> {
    this.clearBuffer();
    this.closed = true;
    this.clock.stop();
  }

  private openSegment(): Segment {
    if (this.open === undefined) {
      this.open = { frames: [], flushed: false, started: false, playedSamples: 0 };
      this.segments.push(this.open);
    }
    return this.open;
  }

  /**
   * One clock tick: send the next frame. A drained, flushed segment is finished here, 20 ms
   * after its last frame left, and the next segment's first frame goes out in the same tick.
   * False stops the clock.
   */
  private tick(): boolean {
    for (;;) {
      const segment = this.segments[0];
      if (this.paused || this.closed || segment === undefined) return false;
      const frame = segment.frames.shift();
      if (frame !== undefined) {
        this.send(segment, frame);
        return true;
      }
      this.endRun();
      // Not flushed: the TTS is behind. Keep ticking and wait for it.
      if (!segment.flushed) return true;
      this.finish(segment, false);
    }
  }

  private send(segment: Segment, frame: Int16Array): void {
    if (!segment.started) {
      segment.started = true;
      this.onPlaybackStarted(Date.now());
    }
    if (this.run === undefined) {
      this.run = { segment, startedAt: Date.now(), offsetSamples: segment.playedSamples };
    }
    this.rtp.send(frame);
    segment.playedSamples += frame.length;
    this.wakeWaiters();
  }

  private finish(segment: Segment, interrupted: boolean): void {
    const index = this.segments.indexOf(segment);
    if (index >= 0) this.segments.splice(index, 1);
    this.onPlaybackFinished({ playbackPosition: segment.playedSamples / OPUS_RATE, interrupted });
  }

  private endRun(): void {
    const run = this.run;
    if (run === undefined) return;
    this.run = undefined;
    const played = run.segment.playedSamples - run.offsetSamples;
    if (played <= 0) return;
    this.onPlaybackProgressed({
      startedAt: run.startedAt,
      offset: (run.offsetSamples / OPUS_RATE) * 1000,
      duration: (played / OPUS_RATE) * 1000,
    });
  }

  private async waitForSpace(generation: number): Promise<void> {
    while (
      !this.closed &&
      generation === this.generation &&
      this.queuedMs >= this.queueSizeFrames * FRAME_MS
    ) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  private wakeWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Mono samples at 48 kHz; AgentSession already resamples to `sampleRate`, others may not. */
  private toOpusRate(frame: AudioFrame): Int16Array {
    const mono = monoSamples(frame);
    if (frame.sampleRate === OPUS_RATE) return mono;
    if (this.resampler === undefined || this.resampler.inputRate !== frame.sampleRate) {
      this.closeResampler();
      this.resampler = new AudioResampler(frame.sampleRate, OPUS_RATE, 1);
    }
    const out = this.resampler.push(monoFrame(mono, frame.sampleRate));
    return concatSamples(out.map((f) => monoSamples(f)));
  }

  private flushResampler(segment: Segment): void {
    if (this.resampler === undefined) return;
    const rest = concatSamples(this.resampler.flush().map((f) => monoSamples(f)));
    for (const chunk of this.chunker.push(rest)) segment.frames.push(chunk);
    this.closeResampler();
  }

  private closeResampler(): void {
    this.resampler?.close();
    this.resampler = undefined;
  }
}

function concatSamples(parts: Int16Array[]): Int16Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';
import { Decoder } from '@evan/opus';
import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { MediaStreamTrack, RtpPacket } from 'werift';
import { OPUS_FRAME_SAMPLES, OPUS_RATE } from './opus-rtp-sender.js';
import { monoFrame, PcmChunker } from './pcm.js';
import { RtpReorderBuffer } from './reorder-buffer.js';

export interface WebRtcAudioInputOptions {
  /** The browser's microphone: `PeerSession.remoteAudio`. */
  track: MediaStreamTrack;
  /**
   * Rate of the frames handed to the session, one Opus can decode to (8, 12, 16, 24 or 48 kHz).
   * Default 16 kHz: what Silero VAD and Whisper run at, so neither resamples.
   */
  sampleRate?: OpusDecodeRate;
  /** Length of each frame handed to the session. Default 20 ms. */
  frameMs?: 10 | 20;
  /** Packets held while waiting for a missing one. Default 3 (60 ms, only after a loss). */
  reorderDepth?: number;
  /** Frames kept for a session that is not reading before new ones are dropped. Default 500 (10 s). */
  maxQueuedFrames?: number;
}

/** The rates an Opus decoder outputs directly. */
export type OpusDecodeRate = 8_000 | 12_000 | 16_000 | 24_000 | 48_000;

/** Lost audio longer than this is not filled with silence (the sender paused, e.g. DTX). */
const MAX_CONCEALED_PACKETS = 5;

/**
 * The user's microphone from a WebRTC peer as an AgentSession `input.audio`: Opus RTP from the
 * browser's track, put back in order, decoded straight to `sampleRate` and cut into equal mono
 * frames. Lost packets become silence of the same length (Opus concealment is not reachable
 * through @evan/opus), so VAD and STT keep a steady clock.
 *
 * The decoder resamples for free; a separate resampler here (and another in the VAD, which
 * wants 16 kHz) cost each call about a tenth of its CPU (bench `sessions`).
 */
export class WebRtcAudioInput extends voice.AudioInput {
  readonly sampleRate: number;
  readonly stats = { packets: 0, decodeErrors: 0, concealedMs: 0, frames: 0, dropped: 0 };
  private readonly decoder: Decoder;
  private readonly reorder: RtpReorderBuffer<RtpPacket>;
  private readonly chunker: PcmChunker;
  private readonly unsubscribe: () => void;
  private controller: ReadableStreamDefaultController<AudioFrame> | undefined;
  private lastPacketSamples: number;
  private attached = true;
  private closed = false;

  constructor(options: WebRtcAudioInputOptions) {
    super();
    const sampleRate = options.sampleRate ?? 16_000;
    this.sampleRate = sampleRate;
    this.decoder = new Decoder({ channels: 1, sample_rate: sampleRate });
    this.lastPacketSamples = (OPUS_FRAME_SAMPLES * this.sampleRate) / OPUS_RATE;
    this.reorder = new RtpReorderBuffer(options.reorderDepth ?? 3);
    this.chunker = new PcmChunker((this.sampleRate * (options.frameMs ?? 20)) / 1000);
    const frames = new ReadableStream<AudioFrame>(
      {
        start: (controller) => {
          this.controller = controller;
        },
      },
      { highWaterMark: options.maxQueuedFrames ?? 500 },
    );
    this.multiStream.addInputStream(frames);
    this.unsubscribe = options.track.onReceiveRtp.subscribe((packet) =>
      this.onRtp(packet),
    ).unSubscribe;
  }

  override setAttached(attached: boolean): void {
    this.attached = attached;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    try {
      this.controller?.close();
    } catch {
      // Already closed by a cancelled reader.
    }
    await super.close();
  }

  private onRtp(packet: RtpPacket): void {
    if (this.closed) return;
    this.stats.packets++;
    for (const event of this.reorder.push(packet)) {
      if (event.kind === 'packet') this.decode(event.packet.payload);
      else this.conceal(event.missing);
    }
  }

  private decode(payload: Buffer): void {
    let pcm: Uint8Array;
    try {
      pcm = this.decoder.decode(payload);
    } catch {
      this.stats.decodeErrors++;
      return;
    }
    const samples = new Int16Array(
      pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength),
    );
    if (samples.length > 0) this.lastPacketSamples = samples.length;
    this.deliver(samples);
  }

  private conceal(missingPackets: number): void {
    if (missingPackets > MAX_CONCEALED_PACKETS) return;
    const samples = missingPackets * this.lastPacketSamples;
    this.stats.concealedMs += (samples / this.sampleRate) * 1000;
    this.deliver(new Int16Array(samples));
  }

  /** Decoded samples in; equal frames out. */
  private deliver(samples: Int16Array): void {
    for (const chunk of this.chunker.push(samples)) this.enqueue(monoFrame(chunk, this.sampleRate));
  }

  private enqueue(frame: AudioFrame): void {
    const controller = this.controller;
    if (!this.attached || controller === undefined) return;
    if ((controller.desiredSize ?? 0) <= 0) {
      // Nobody is reading (the session is busy or gone): live audio is dropped, not hoarded.
      this.stats.dropped++;
      return;
    }
    controller.enqueue(frame);
    this.stats.frames++;
  }
}

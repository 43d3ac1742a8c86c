import { Encoder } from '@evan/opus';
import { RtpHeader, RtpPacket } from 'werift';

/** Opus on WebRTC runs at 48 kHz; we send 20 ms frames. */
export const OPUS_RATE = 48_000;
export const OPUS_FRAME_SAMPLES = 960;
const FRAME_MS = (OPUS_FRAME_SAMPLES / OPUS_RATE) * 1000;

/** Where RTP packets go: a werift `RTCRtpSender` fits (it rewrites SSRC and payload type). */
export interface RtpSink {
  sendRtp(packet: RtpPacket): Promise<unknown> | unknown;
}

/**
 * Encodes 20 ms mono frames with Opus and numbers them as RTP.
 *
 * Within a talk spurt the timestamp steps by 960 per packet. After a pause (no packet for a
 * while) the timestamp jumps by the wall-clock time that passed and the marker bit is set, as
 * RFC 3551 asks, so the browser's jitter buffer starts the new spurt without stretching it.
 */
export class OpusRtpSender {
  private readonly encoder: Encoder;
  private sequenceNumber = randomUint(0xffff);
  private readonly timestampBase = randomUint(0xffffffff);
  private readonly clockStartMs: number;
  private lastTimestamp: number | undefined;
  private lastSentAtMs: number | undefined;
  packetsSent = 0;

  constructor(
    private readonly sink: RtpSink,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.encoder = new Encoder({ channels: 1, sample_rate: OPUS_RATE, application: 'voip' });
    this.clockStartMs = now();
  }

  /** Encodes and sends one frame of exactly {@link OPUS_FRAME_SAMPLES} mono samples. */
  send(frame: Int16Array): void {
    const now = this.now();
    const continuing =
      this.lastSentAtMs !== undefined && now - this.lastSentAtMs < FRAME_MS * SPURT_GAP_FRAMES;
    const timestamp = continuing ? this.continuedTimestamp() : this.wallClockTimestamp(now);
    const header = new RtpHeader({
      sequenceNumber: this.sequenceNumber,
      timestamp,
      payloadType: 111,
      marker: !continuing,
    });
    const payload = Buffer.from(this.encoder.encode(frame));
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.lastTimestamp = timestamp;
    this.lastSentAtMs = now;
    this.packetsSent++;
    void Promise.resolve(this.sink.sendRtp(new RtpPacket(header, payload))).catch(() => {
      // A send after the transport closed is dropped; the peer's close handling reports it.
    });
  }

  private continuedTimestamp(): number {
    return ((this.lastTimestamp ?? this.timestampBase) + OPUS_FRAME_SAMPLES) >>> 0;
  }

  private wallClockTimestamp(now: number): number {
    const elapsedSamples = Math.round(((now - this.clockStartMs) * OPUS_RATE) / 1000);
    const fromClock = (this.timestampBase + elapsedSamples) >>> 0;
    if (this.lastTimestamp === undefined) return fromClock;
    // Never step backwards or overlap the last packet, even if timers ran early.
    const minimum = this.continuedTimestamp();
    return ((fromClock - minimum) | 0) < 0 ? minimum : fromClock;
  }
}

/** More than this many frame lengths without a packet starts a new talk spurt. */
const SPURT_GAP_FRAMES = 3;

function randomUint(max: number): number {
  return Math.floor(Math.random() * max);
}

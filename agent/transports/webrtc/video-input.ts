import type { VideoFrame } from '@livekit/rtc-node';
import type { RTCRtpTransceiver, RtpPacket } from 'werift';
import { Vp8Decoder } from './vp8-decoder.js';
import { type Vp8Frame, Vp8FrameAssembler } from './vp8-frames.js';

export interface WebRtcVideoInputOptions {
  /** The browser's camera: `PeerSession.video`. */
  transceiver: RTCRtpTransceiver;
  /** Ask the browser for a fresh keyframe this often (a PLI); 0 never asks. Default 3000. */
  keyframeIntervalMs?: number;
}

/** The newest camera picture and when it arrived (`Date.now()`). */
export interface CameraPicture {
  frame: VideoFrame;
  receivedAt: number;
}

/**
 * The browser's camera, kept as its latest picture: VP8 RTP is put back into frames, and
 * keyframes only are decoded (libav.js WebAssembly, on a worker thread) into I420
 * `VideoFrame`s, the type a LiveKit room hands the vision code.
 *
 * A keyframe takes 80-120 ms to decode at 640x480 and ~340 ms at 1280x720 here, so decoding
 * every frame at camera rate would take more than a core per call; a character looking at
 * the user needs a picture every few seconds. So it asks the browser for a keyframe every
 * `keyframeIntervalMs` (RTCP PLI) and decodes those. H.264 is negotiated but not decoded (this
 * libav.js build has no H.264 decoder): its packets only count as `unsupported`.
 */
export class WebRtcVideoInput {
  readonly stats = { packets: 0, unsupported: 0, decoded: 0, decodeFailures: 0 };
  private readonly assembler = new Vp8FrameAssembler();
  private readonly transceiver: RTCRtpTransceiver;
  private readonly decoder: Promise<Vp8Decoder>;
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout | undefined;
  private latest: CameraPicture | undefined;
  private pending: Vp8Frame | undefined;
  private decoding = false;
  private waiters: { resolve: (picture: CameraPicture) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private ssrc: number | undefined;
  private closed = false;

  constructor(options: WebRtcVideoInputOptions) {
    this.transceiver = options.transceiver;
    this.decoder = Vp8Decoder.create();
    this.decoder.catch((error: unknown) => {
      this.fail(new Error('The VP8 decoder could not start', { cause: error }));
    });
    const track = this.transceiver.receiver.track;
    this.unsubscribe = track.onReceiveRtp.subscribe((packet) => this.onRtp(packet)).unSubscribe;
    const interval = options.keyframeIntervalMs ?? 3000;
    if (interval > 0) {
      this.timer = setInterval(() => this.requestKeyframe(), interval);
      this.timer.unref();
    }
  }

  /** The newest decoded picture, if any keyframe has arrived yet. */
  get latestPicture(): CameraPicture | undefined {
    return this.latest;
  }

  /** Asks the browser for a keyframe now (RTCP PLI). */
  requestKeyframe(): void {
    if (this.closed || this.ssrc === undefined) return;
    void this.transceiver.receiver.sendRtcpPLI(this.ssrc).catch(() => {});
  }

  /**
   * Resolves with the next picture decoded from now on (asking for a keyframe first); rejects
   * if the input closes or its decoder cannot start.
   */
  nextPicture(): Promise<CameraPicture> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const next = new Promise<CameraPicture>((resolve, reject) =>
      this.waiters.push({ resolve, reject }),
    );
    this.requestKeyframe();
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.timer);
    this.fail(new Error('The video input closed'));
    await this.decoder.then((d) => d.close()).catch(() => {});
  }

  private onRtp(packet: RtpPacket): void {
    if (this.closed) return;
    this.stats.packets++;
    this.ssrc = packet.header.ssrc;
    const codec = this.transceiver.codecs.find((c) => c.payloadType === packet.header.payloadType);
    if (codec?.name.toUpperCase() !== 'VP8') {
      this.stats.unsupported++;
      return;
    }
    const frame = this.assembler.push(packet);
    if (frame?.keyframe !== true) return;
    this.pending = frame;
    void this.decodePending();
  }

  /** Decodes the newest waiting keyframe; older ones that queued meanwhile are skipped. */
  private async decodePending(): Promise<void> {
    if (this.decoding) return;
    this.decoding = true;
    try {
      let frame = this.takePending();
      while (frame !== undefined && !this.closed) {
        await this.decodeOne(frame);
        frame = this.takePending();
      }
    } finally {
      this.decoding = false;
    }
  }

  private takePending(): Vp8Frame | undefined {
    const frame = this.pending;
    this.pending = undefined;
    return frame;
  }

  private async decodeOne(frame: Vp8Frame): Promise<void> {
    try {
      const picture = await (await this.decoder).decode(frame.data);
      if (picture === undefined) throw new Error('no picture');
      this.latest = { frame: picture, receivedAt: Date.now() };
      this.stats.decoded++;
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.resolve(this.latest);
    } catch {
      this.stats.decodeFailures++;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.failure);
  }
}

import { type RtpPacket, Vp8RtpPayload } from 'werift/nonstandard';

/** One whole VP8 frame put back together from its RTP packets. */
export interface Vp8Frame {
  data: Buffer;
  keyframe: boolean;
  /** RTP timestamp (90 kHz) of the frame. */
  timestamp: number;
}

/**
 * Joins VP8 RTP payloads (RFC 7741) into frames: a frame starts at a packet that begins
 * partition 0 and ends at the RTP marker bit. A frame with a missing packet is dropped, not
 * patched: a damaged keyframe would decode to garbage, and the next one is a PLI away.
 */
export class Vp8FrameAssembler {
  private parts: Buffer[] = [];
  private timestamp: number | undefined;
  private nextSeq: number | undefined;
  private keyframe = false;
  readonly stats = { frames: 0, keyframes: 0, broken: 0 };

  /** Adds a packet; returns the frame it completes, if any. */
  push(packet: RtpPacket): Vp8Frame | undefined {
    const vp8 = Vp8RtpPayload.deSerialize(packet.payload);
    const { sequenceNumber, timestamp, marker } = packet.header;
    if (vp8.isPartitionHead) {
      if (this.nextSeq !== undefined) this.stats.broken++;
      this.parts = [vp8.payload];
      this.timestamp = timestamp;
      this.keyframe = vp8.isKeyframe;
    } else if (sequenceNumber === this.nextSeq && timestamp === this.timestamp) {
      this.parts.push(vp8.payload);
    } else {
      // A packet is missing (or this frame's start was): wait for the next frame start.
      if (this.nextSeq !== undefined) this.stats.broken++;
      this.reset();
      return undefined;
    }
    this.nextSeq = (sequenceNumber + 1) & 0xffff;
    if (!marker) return undefined;
    const frame = { data: Buffer.concat(this.parts), keyframe: this.keyframe, timestamp };
    this.reset();
    this.stats.frames++;
    if (frame.keyframe) this.stats.keyframes++;
    return frame;
  }

  private reset(): void {
    this.parts = [];
    this.timestamp = undefined;
    this.nextSeq = undefined;
    this.keyframe = false;
  }
}

/** Width and height from a VP8 keyframe header (RFC 6386 9.1), or undefined if it is not one. */
export function vp8KeyframeSize(frame: Buffer): { width: number; height: number } | undefined {
  const isKeyframe = frame.length >= 10 && ((frame[0] ?? 1) & 0x01) === 0;
  const startCode = frame[3] === 0x9d && frame[4] === 0x01 && frame[5] === 0x2a;
  if (!isKeyframe || !startCode) return undefined;
  return {
    width: frame.readUInt16LE(6) & 0x3fff,
    height: frame.readUInt16LE(8) & 0x3fff,
  };
}

/**
 * Splits one VP8 frame into RTP payloads of at most `maxPayload` bytes, each behind the
 * one-byte RFC 7741 descriptor (S bit on the first). The browser side of tests uses this.
 */
export function packetizeVp8(frame: Buffer, maxPayload = 1100): Buffer[] {
  const chunk = maxPayload - 1;
  const payloads: Buffer[] = [];
  for (let offset = 0; offset < frame.length; offset += chunk) {
    const descriptor = Buffer.from([offset === 0 ? 0x10 : 0x00]);
    payloads.push(Buffer.concat([descriptor, frame.subarray(offset, offset + chunk)]));
  }
  return payloads;
}

import { describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { encodeTestPicture } from '../../../tests/helpers/video-test-picture.js';
import { packetizeVp8, Vp8FrameAssembler, vp8KeyframeSize } from './vp8-frames.js';

function packets(frame: Buffer, firstSeq: number, timestamp: number): RtpPacket[] {
  const payloads = packetizeVp8(frame, 500);
  return payloads.map(
    (payload, i) =>
      new RtpPacket(
        new RtpHeader({
          sequenceNumber: firstSeq + i,
          timestamp,
          payloadType: 96,
          marker: i === payloads.length - 1,
        }),
        payload,
      ),
  );
}

describe('Vp8FrameAssembler', () => {
  it('puts a keyframe split over several packets back together', async () => {
    const { keyframe } = await encodeTestPicture(320, 240);
    const parts = packets(keyframe, 100, 9000);
    expect(parts.length).toBeGreaterThan(2);
    const assembler = new Vp8FrameAssembler();
    const frames = parts.map((p) => assembler.push(p)).filter((f) => f !== undefined);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.keyframe).toBe(true);
    expect(frames[0]?.data.equals(keyframe)).toBe(true);
    expect(vp8KeyframeSize(keyframe)).toEqual({ width: 320, height: 240 });
  });

  it('drops a frame that lost a packet and recovers at the next one', async () => {
    const { keyframe } = await encodeTestPicture(320, 240);
    const first = packets(keyframe, 100, 9000);
    const second = packets(keyframe, 100 + first.length, 12000);
    const assembler = new Vp8FrameAssembler();
    const frames = [...first.filter((_, i) => i !== 1), ...second]
      .map((p) => assembler.push(p))
      .filter((f) => f !== undefined);
    expect(frames.map((f) => f.timestamp)).toEqual([12000]);
    expect(assembler.stats.broken).toBe(1);
  });
});

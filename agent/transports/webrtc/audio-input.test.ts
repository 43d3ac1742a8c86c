import { Encoder } from '@evan/opus';
import { initializeLogger } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import {
  envelopeCorrelation,
  joinFrames,
  until,
} from '../../../tests/helpers/audio-test-helpers.js';
import { connectTestCall } from '../../../tests/helpers/test-browser.js';
import { resample } from '../../providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../providers/local/flite.js';
import { WebRtcAudioInput } from './audio-input.js';
import { OPUS_FRAME_SAMPLES } from './opus-rtp-sender.js';
import { PcmChunker, rmsLevel } from './pcm.js';

let speech48k: Int16Array;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  const speech = await synthesizeSpeech('Hello there. Tell me about the sea.');
  speech48k = resample(speech, 48_000);
});

/** Reads every frame the input hands the session until it closes. */
function collect(input: WebRtcAudioInput): { frames: AudioFrame[]; done: Promise<void> } {
  const frames: AudioFrame[] = [];
  const reader = input.stream.getReader();
  const done = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      frames.push(value);
    }
  })();
  return { frames, done };
}

describe('WebRtcAudioInput over a call', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  it.each([16_000, 24_000, 48_000] as const)(
    'hands the session %i Hz mono 20 ms frames of what the browser said',
    async (rate) => {
      const { browser, session } = await connectTestCall();
      cleanup.push(
        () => browser.close(),
        () => session.close(),
      );
      const input = new WebRtcAudioInput({ track: session.remoteAudio, sampleRate: rate });
      const { frames, done } = collect(input);
      const packets = Math.ceil(speech48k.length / OPUS_FRAME_SAMPLES);

      await browser.speak(speech48k);
      // All packets decoded (the last one may be short of a whole frame).
      await until(() => input.stats.packets === packets && frames.length >= packets - 3);
      await input.close();
      await done;

      expect(frames.every((f) => f.sampleRate === rate && f.channels === 1)).toBe(true);
      expect(frames.every((f) => f.samplesPerChannel === rate / 50)).toBe(true);
      expect(input.stats).toMatchObject({ decodeErrors: 0, concealedMs: 0, dropped: 0 });
      const heard = joinFrames(frames);
      const original = resample({ samples: speech48k, sampleRate: 48_000 }, rate);
      expect(rmsLevel(heard)).toBeGreaterThan(rmsLevel(original) * 0.5);
      expect(rmsLevel(heard)).toBeLessThan(rmsLevel(original) * 2);
      // The same speech, not just some sound: its loudness rises and falls in step.
      expect(envelopeCorrelation(original, heard, rate)).toBeGreaterThan(0.9);
    },
  );
});

describe('WebRtcAudioInput packet handling', () => {
  /** Opus packets of the speech, numbered from `first`. */
  function speechPackets(count: number, first = 1000): RtpPacket[] {
    const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
    const frames = new PcmChunker(OPUS_FRAME_SAMPLES).push(speech48k).slice(0, count);
    return frames.map(
      (frame, i) =>
        new RtpPacket(
          new RtpHeader({ sequenceNumber: first + i, timestamp: i * 960, payloadType: 111 }),
          Buffer.from(encoder.encode(frame)),
        ),
    );
  }

  it('restores order, drops duplicates and fills a lost packet with 20 ms of silence', async () => {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const input = new WebRtcAudioInput({ track, sampleRate: 48_000 });
    const { frames, done } = collect(input);
    const packets = speechPackets(20);
    // 0..19 with 5 lost, 8 and 9 swapped, 12 twice.
    const order = [0, 1, 2, 3, 4, 6, 7, 9, 8, 10, 11, 12, 12, 13, 14, 15, 16, 17, 18, 19];
    for (const i of order) {
      const packet = packets[i];
      if (packet !== undefined) track.onReceiveRtp.execute(packet);
    }
    // 19 decoded + 1 concealed: the gap is given up once 4 packets wait behind it.
    await until(() => frames.length >= 20);
    await input.close();
    await done;
    expect(frames).toHaveLength(20);
    expect(input.stats).toMatchObject({ packets: 20, concealedMs: 20, decodeErrors: 0 });
    expect(rmsLevel(frames[5]?.data ?? new Int16Array(1))).toBe(0);
  });

  it('decodes to 16 kHz unless told otherwise, the rate Silero and Whisper run at', async () => {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const input = new WebRtcAudioInput({ track, reorderDepth: 0 });
    const { frames, done } = collect(input);
    for (const packet of speechPackets(5)) track.onReceiveRtp.execute(packet);
    await until(() => frames.length >= 5);
    await input.close();
    await done;
    expect(input.sampleRate).toBe(16_000);
    expect(frames.map((f) => [f.sampleRate, f.samplesPerChannel])).toEqual(
      Array(5).fill([16_000, 320]),
    );
  });

  it('delivers nothing while detached (muted by the session)', async () => {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const input = new WebRtcAudioInput({ track, sampleRate: 48_000, reorderDepth: 0 });
    const { frames, done } = collect(input);
    const packets = speechPackets(10);
    input.setAttached(false);
    for (const packet of packets.slice(0, 5)) track.onReceiveRtp.execute(packet);
    input.setAttached(true);
    for (const packet of packets.slice(5)) track.onReceiveRtp.execute(packet);
    await until(() => frames.length >= 5);
    await input.close();
    await done;
    expect(frames).toHaveLength(5);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationMs, frameRms, rms } from './measure.js';
import { playInRealTime, silenceFrames, speechFrames } from './speech.js';
import { framesToPcm, readWavFile, writeWavFile } from './wav-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-audio-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('speechFrames', () => {
  it('cuts speech into frames of the asked rate and length, loud in the middle', async () => {
    const frames = await speechFrames('tell me about the moon', {
      sampleRate: 48_000,
      frameMs: 10,
    });
    expect(frames.every((f) => f.sampleRate === 48_000 && f.channels === 1)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.samplesPerChannel === 480)).toBe(true);
    expect(durationMs(frames)).toBeGreaterThan(800);
    expect(Math.max(...frameRms(frames))).toBeGreaterThan(2_000);
  });
});

describe('silenceFrames', () => {
  it('gives whole frames of zeros covering the duration', () => {
    const frames = silenceFrames(55, { sampleRate: 16_000, frameMs: 20 });
    expect(frames).toHaveLength(3);
    expect(durationMs(frames)).toBe(60);
    expect(frameRms(frames)).toEqual([0, 0, 0]);
  });
});

describe('rms', () => {
  it('is the amplitude of a square wave and 0 for nothing', () => {
    expect(rms(Int16Array.from([1000, -1000, 1000, -1000]))).toBe(1000);
    expect(rms(new Int16Array(0))).toBe(0);
  });
});

describe('WAV files', () => {
  it('write frames and read back the same samples', async () => {
    const frames = await speechFrames('hello', { sampleRate: 24_000, frameMs: 20 });
    const path = join(dir, 'hello.wav');
    await writeWavFile(path, frames);
    const read = await readWavFile(path);
    expect(read.sampleRate).toBe(24_000);
    expect([...read.samples]).toEqual([...framesToPcm(frames).samples]);
  });

  it('refuse to join frames of different rates', () => {
    const frames = [
      ...silenceFrames(10, { sampleRate: 16_000, frameMs: 10 }),
      ...silenceFrames(10, { sampleRate: 48_000, frameMs: 10 }),
    ];
    expect(() => framesToPcm(frames)).toThrow(/one sample rate/);
  });
});

describe('playInRealTime', () => {
  it('pushes every frame in order', async () => {
    const frames = silenceFrames(50, { sampleRate: 16_000, frameMs: 10 });
    const pushed: AudioFrame[] = [];
    await playInRealTime(frames, (frame) => pushed.push(frame));
    expect(pushed).toEqual(frames);
  });

  it('stops once aborted', async () => {
    const frames = silenceFrames(100, { sampleRate: 16_000, frameMs: 10 });
    const abort = new AbortController();
    const pushed: AudioFrame[] = [];
    await playInRealTime(
      frames,
      (frame) => {
        pushed.push(frame);
        if (pushed.length === 3) abort.abort();
      },
      abort.signal,
    );
    expect(pushed).toHaveLength(3);
  });
});

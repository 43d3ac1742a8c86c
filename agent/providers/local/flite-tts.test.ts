import { initializeLogger, tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../../../tests/audio/measure.js';
import { concatFrames } from './audio-frames.js';
import { FliteTTS } from './flite-tts.js';
import { PocketsphinxSTT } from './pocketsphinx-stt.js';

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'warn' });
});

const engines: FliteTTS[] = [];
function engine(options?: ConstructorParameters<typeof FliteTTS>[0]): FliteTTS {
  const created = new FliteTTS(options);
  engines.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

async function collect(
  stream: AsyncIterable<tts.SynthesizedAudio>,
): Promise<tts.SynthesizedAudio[]> {
  const out: tts.SynthesizedAudio[] = [];
  for await (const audio of stream) out.push(audio);
  return out;
}

function seconds(frames: readonly AudioFrame[]): number {
  return frames.reduce((sum, f) => sum + f.samplesPerChannel / f.sampleRate, 0);
}

describe('FliteTTS.synthesize', () => {
  it('emits audible 20 ms frames at 24 kHz, the last one marked final', async () => {
    const flite = engine();
    const audio = await collect(flite.synthesize('tell me about the moon'));
    const frames = audio.map((a) => a.frame);

    expect(flite.sampleRate).toBe(24_000);
    expect(frames.every((f) => f.sampleRate === 24_000 && f.channels === 1)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.samplesPerChannel === 480)).toBe(true);
    expect(seconds(frames)).toBeGreaterThan(0.8);
    expect(seconds(frames)).toBeLessThan(4);
    expect(rms(concatFrames(frames))).toBeGreaterThan(500);
    expect(audio.map((a) => a.final)).toEqual([...Array(frames.length - 1).fill(false), true]);
  });

  it('keeps flite’s own 16 kHz when asked, in 10 ms frames', async () => {
    const frames = (
      await collect(engine({ sampleRate: 16_000, frameMs: 10 }).synthesize('hello'))
    ).map((a) => a.frame);
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.every((f) => f.sampleRate === 16_000)).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.samplesPerChannel === 160)).toBe(true);
  });

  it('upsamples the 8 kHz voice to the declared rate without changing its length', async () => {
    const flite = engine({ voice: 'kal', sampleRate: 48_000 });
    const frames = (await collect(flite.synthesize('good morning everyone'))).map((a) => a.frame);
    const native = (
      await collect(engine({ voice: 'kal', sampleRate: 8_000 }).synthesize('good morning everyone'))
    ).map((a) => a.frame);
    expect(frames.every((f) => f.sampleRate === 48_000)).toBe(true);
    expect(Math.abs(seconds(frames) - seconds(native))).toBeLessThan(0.05);
    expect(rms(concatFrames(frames))).toBeGreaterThan(500);
  });

  it('stays intelligible after resampling: pocketsphinx hears the same words', async () => {
    const phrases = ['tell me about the moon', 'what time is it in london'];
    const frames = (await collect(engine({ sampleRate: 44_100 }).synthesize(phrases[1] ?? ''))).map(
      (a) => a.frame,
    );
    const event = await new PocketsphinxSTT({ phrases, timeoutMs: 120_000 }).recognize(frames);
    expect(event.alternatives?.[0].text).toBe(phrases[1]);
  });

  it('collects into one frame the framework can play', async () => {
    const frame = await engine().synthesize('one two three').collect();
    expect(frame.sampleRate).toBe(24_000);
    expect(frame.samplesPerChannel / frame.sampleRate).toBeGreaterThan(0.5);
  });

  it('refuses an unknown voice when constructed', () => {
    // @ts-expect-error: the voice is checked at run time too, for configuration read from text
    expect(() => new FliteTTS({ voice: 'nobody' })).toThrow(/Unknown flite voice/);
  });
});

describe('FliteTTS.stream', () => {
  it('speaks pushed text sentence by sentence and ends the stream', async () => {
    const stream = engine().stream();
    stream.pushText('The moon is bright tonight. ');
    stream.pushText('It is full.');
    stream.flush();
    stream.endInput();

    const frames: AudioFrame[] = [];
    for await (const event of stream) {
      if (event === tts.SynthesizeStream.END_OF_STREAM) break;
      frames.push(event.frame);
    }
    const single = await engine().synthesize('The moon is bright tonight.').collect();
    expect(frames.every((f) => f.sampleRate === 24_000)).toBe(true);
    expect(seconds(frames)).toBeGreaterThan(single.samplesPerChannel / single.sampleRate + 0.3);
    expect(rms(concatFrames(frames))).toBeGreaterThan(500);
  });
});

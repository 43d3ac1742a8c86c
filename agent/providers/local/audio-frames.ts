import { AudioFrame, AudioResampler } from '@livekit/rtc-node';
import type { Pcm16Audio } from './wav.js';

/**
 * Cuts mono PCM into LiveKit frames of `frameMs` each at `sampleRate`, resampling first when
 * the rates differ. The last frame holds the remainder and may be shorter.
 */
export function toFrames(audio: Pcm16Audio, sampleRate: number, frameMs: number): AudioFrame[] {
  const samples = resample(audio, sampleRate);
  const perFrame = Math.round((sampleRate * frameMs) / 1000);
  if (perFrame <= 0) throw new RangeError(`frameMs ${frameMs} gives empty frames`);
  const frames: AudioFrame[] = [];
  for (let start = 0; start < samples.length; start += perFrame) {
    const data = samples.slice(start, start + perFrame);
    frames.push(new AudioFrame(data, sampleRate, 1, data.length));
  }
  return frames;
}

/** Mono PCM at `outputRate`, through LiveKit's (SoX) resampler when the rates differ. */
export function resample(audio: Pcm16Audio, outputRate: number): Int16Array {
  if (audio.sampleRate === outputRate || audio.samples.length === 0) return audio.samples;
  const resampler = new AudioResampler(audio.sampleRate, outputRate, 1);
  try {
    const input = new AudioFrame(audio.samples, audio.sampleRate, 1, audio.samples.length);
    return concatFrames([...resampler.push(input), ...resampler.flush()]);
  } finally {
    resampler.close();
  }
}

/** Joins mono frames' samples into one array. */
export function concatFrames(frames: readonly AudioFrame[]): Int16Array {
  const total = frames.reduce((sum, frame) => sum + frame.samplesPerChannel * frame.channels, 0);
  const out = new Int16Array(total);
  let offset = 0;
  for (const frame of frames) {
    out.set(frame.data.subarray(0, frame.samplesPerChannel * frame.channels), offset);
    offset += frame.samplesPerChannel * frame.channels;
  }
  return out;
}

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

/**
 * One block of mono samples from one frame or a list of frames of a single rate; channels
 * are averaged. Throws a `RangeError` for an empty list, mixed rates or channel counts, or a
 * frame whose data is shorter than it claims.
 */
export function toMonoPcm(buffer: AudioFrame | readonly AudioFrame[]): Pcm16Audio {
  const frames = Array.isArray(buffer) ? buffer : [buffer as AudioFrame];
  const first = frames[0];
  if (first === undefined) throw new RangeError('no audio frames');
  for (const frame of frames) {
    if (frame.sampleRate !== first.sampleRate || frame.channels !== first.channels) {
      throw new RangeError('frames differ in sample rate or channel count');
    }
    if (frame.data.length < frame.samplesPerChannel * frame.channels) {
      throw new RangeError('frame data is shorter than its sample count');
    }
  }
  if (!(first.sampleRate > 0) || !(first.channels > 0)) {
    throw new RangeError(`invalid format: ${first.sampleRate} Hz, ${first.channels} channels`);
  }
  const joined = concatFrames(frames);
  return { samples: downmix(joined, first.channels), sampleRate: first.sampleRate };
}

function downmix(interleaved: Int16Array, channels: number): Int16Array {
  if (channels === 1) return interleaved;
  const out = new Int16Array(Math.floor(interleaved.length / channels));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c] ?? 0;
    out[i] = Math.round(sum / channels);
  }
  return out;
}

import { AudioFrame } from '@livekit/rtc-node';

/**
 * Cuts a stream of mono 16-bit samples into chunks of exactly `size` samples. Opus needs whole
 * 20 ms frames, and the session's VAD/STT read more evenly from equal frames than from the
 * resampler's bursts.
 */
export class PcmChunker {
  private pending: Int16Array;
  private filled = 0;

  constructor(readonly size: number) {
    this.pending = new Int16Array(size);
  }

  /** Samples held back until a chunk is complete. */
  get bufferedSamples(): number {
    return this.filled;
  }

  /** Adds samples and returns every chunk they complete (each a fresh array). */
  push(samples: Int16Array): Int16Array[] {
    const chunks: Int16Array[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.size - this.filled, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.size) {
        chunks.push(this.pending);
        this.pending = new Int16Array(this.size);
        this.filled = 0;
      }
    }
    return chunks;
  }

  /** Returns the incomplete chunk padded with silence, or nothing when none is held. */
  flushPadded(): Int16Array | undefined {
    if (this.filled === 0) return undefined;
    const chunk = this.pending;
    this.pending = new Int16Array(this.size);
    this.filled = 0;
    return chunk;
  }

  /** Forgets held samples (barge-in). */
  clear(): void {
    this.pending.fill(0);
    this.filled = 0;
  }
}

/** The frame's samples as mono: stereo (or more) is averaged per sample. */
export function monoSamples(frame: AudioFrame): Int16Array {
  const samples = frame.data.subarray(0, frame.samplesPerChannel * frame.channels);
  if (frame.channels === 1) return samples;
  const mono = new Int16Array(frame.samplesPerChannel);
  for (let i = 0; i < frame.samplesPerChannel; i++) {
    let sum = 0;
    for (let c = 0; c < frame.channels; c++) sum += samples[i * frame.channels + c] ?? 0;
    mono[i] = Math.round(sum / frame.channels);
  }
  return mono;
}

/** Wraps mono samples in an AudioFrame. */
export function monoFrame(samples: Int16Array, sampleRate: number): AudioFrame {
  return new AudioFrame(samples, sampleRate, 1, samples.length);
}

/** Root-mean-square level of 16-bit samples, 0..32768. Used to tell speech from silence. */
export function rmsLevel(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

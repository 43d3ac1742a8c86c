import type { AudioFrame } from '@livekit/rtc-node';
import { rmsLevel } from '../../agent/transports/webrtc/pcm.js';

/** All frames' samples (mono) as one block. */
export function joinFrames(frames: readonly AudioFrame[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.samplesPerChannel, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame.data.subarray(0, frame.samplesPerChannel), offset);
    offset += frame.samplesPerChannel;
  }
  return out;
}

/** Loudness per 20 ms window. */
function envelope(samples: Int16Array, sampleRate: number): number[] {
  const window = sampleRate / 50;
  const out: number[] = [];
  for (let start = 0; start + window <= samples.length; start += window) {
    out.push(rmsLevel(samples.subarray(start, start + window)));
  }
  return out;
}

function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  const mean = (xs: number[]) => xs.slice(0, n).reduce((s, x) => s + x, 0) / n;
  const ma = mean(a);
  const mb = mean(b);
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

/**
 * How closely the loudness of `heard` follows that of `original` (Pearson's r of their 20 ms
 * envelopes), at the best delay of up to `maxLagMs`: codecs and resamplers add some delay.
 * Speech scores above 0.9 after Opus; unrelated sound or silence scores near 0.
 */
export function envelopeCorrelation(
  original: Int16Array,
  heard: Int16Array,
  sampleRate: number,
  maxLagMs = 200,
): number {
  const a = envelope(original, sampleRate);
  const b = envelope(heard, sampleRate);
  let best = -1;
  for (let lag = 0; lag <= maxLagMs / 20; lag++) {
    best = Math.max(best, pearson(a, b.slice(lag)), pearson(a.slice(lag), b));
  }
  return best;
}

/**
 * Polls `condition` every 20 ms. Gives up with an error after `limitMs` so a broken call
 * fails its test instead of leaving a loop running after it.
 */
export async function until(condition: () => boolean, limitMs = 20_000): Promise<void> {
  const giveUpAt = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

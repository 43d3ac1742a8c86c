import type { AudioFrame } from '@livekit/rtc-node';

/** Root mean square of 16-bit samples (0 for none). Speech from flite measures in the thousands. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / samples.length);
}

/** RMS of each frame, in order: a quick picture of where the speech is. */
export function frameRms(frames: readonly AudioFrame[]): number[] {
  return frames.map((frame) =>
    rms(frame.data.subarray(0, frame.samplesPerChannel * frame.channels)),
  );
}

/** Total duration of frames, in milliseconds. */
export function durationMs(frames: readonly AudioFrame[]): number {
  return frames.reduce(
    (sum, frame) => sum + (frame.samplesPerChannel / frame.sampleRate) * 1000,
    0,
  );
}

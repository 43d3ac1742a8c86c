import { AudioFrame, type AudioSource } from '@livekit/rtc-node';
import { toFrames } from '../../agent/providers/local/audio-frames.js';
import { type FliteVoice, synthesizeSpeech } from '../../agent/providers/local/flite.js';

/** How to cut audio into frames: rate in Hz, frame length in ms (LiveKit sends 10 ms). */
export interface FrameFormat {
  sampleRate: number;
  frameMs: number;
}

/** Speaks `text` with flite and returns it as mono frames in `format`. */
export async function speechFrames(
  text: string,
  format: FrameFormat,
  voice?: FliteVoice,
): Promise<AudioFrame[]> {
  const audio = await synthesizeSpeech(text, voice === undefined ? {} : { voice });
  return toFrames(audio, format.sampleRate, format.frameMs);
}

/** `ms` of digital silence as frames in `format` (rounded up to whole frames). */
export function silenceFrames(ms: number, format: FrameFormat): AudioFrame[] {
  const perFrame = Math.round((format.sampleRate * format.frameMs) / 1000);
  const count = Math.ceil(ms / format.frameMs);
  return Array.from(
    { length: count },
    () => new AudioFrame(new Int16Array(perFrame), format.sampleRate, 1, perFrame),
  );
}

/**
 * Hands frames to `push` at the pace a microphone would: each frame when its start time
 * arrives on the wall clock, measured from the first, so timer drift does not accumulate.
 * Stops early, without error, when `signal` aborts.
 */
export async function playInRealTime(
  frames: Iterable<AudioFrame>,
  push: (frame: AudioFrame) => void,
  signal?: AbortSignal,
): Promise<void> {
  const started = performance.now();
  let offsetMs = 0;
  for (const frame of frames) {
    if (signal?.aborted) return;
    const waitMs = started + offsetMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    push(frame);
    offsetMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
  }
}

/**
 * Plays `frames` into an rtc-node `AudioSource` the way a phone's microphone feeds it: the
 * SDK keeps the pace (`captureFrame` resolves once the source's queue, 1 s by default, has
 * room), so a test process that stalls for a few hundred ms under load does not cut silent
 * gaps into the speech, which the agent's VAD would take for the end of a turn. Resolves
 * once the last frame has played.
 */
export async function playIntoSource(
  source: AudioSource,
  frames: Iterable<AudioFrame>,
): Promise<void> {
  for (const frame of frames) await source.captureFrame(frame);
  await source.waitForPlayout();
}

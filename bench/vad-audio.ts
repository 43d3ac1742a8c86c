/**
 * The audio of the VAD benchmark: calls of synthetic speech (flite in-process and the
 * espeak-ng command at several rates and pitches) with pauses of known length between
 * phrases, at 16 kHz, with where each phrase's speech really starts and ends.
 */
import { execFileSync } from 'node:child_process';
import { resample } from '../agent/providers/local/audio-frames.js';
import { type FliteVoice, synthesizeSpeech } from '../agent/providers/local/flite.js';
import { decodeWav, type Pcm16Audio } from '../agent/providers/local/wav.js';

export const SAMPLE_RATE = 16_000;

/** One call's microphone: samples, and the true speech segments in ms from its start. */
export interface CallAudio {
  samples: Int16Array;
  speech: { startMs: number; endMs: number }[];
}

type Speaker =
  | { engine: 'flite'; voice: FliteVoice }
  | { engine: 'espeak'; rate: number; pitch: number };

const SPEAKERS: Speaker[] = [
  { engine: 'flite', voice: 'rms' },
  { engine: 'flite', voice: 'slt' },
  { engine: 'espeak', rate: 150, pitch: 40 },
  { engine: 'espeak', rate: 190, pitch: 70 },
  { engine: 'flite', voice: 'awb' },
];

const PHRASES = [
  'I would like to book a table for two',
  'and maybe somewhere near the river',
  'my number is five five five, two one three',
  'um, let me think',
  'yes, that sounds good to me',
];

/** Pauses after each phrase: inside a turn (300-1,200 ms) and the end of a turn (2 s). */
const PAUSES_MS = [300, 600, 900, 1_200, 2_000];
const LEAD_IN_MS = 500;

async function speak(text: string, speaker: Speaker): Promise<Pcm16Audio> {
  if (speaker.engine === 'flite') return synthesizeSpeech(text, { voice: speaker.voice });
  const wav = execFileSync('espeak-ng', [
    '-v',
    'en-us',
    '-s',
    String(speaker.rate),
    '-p',
    String(speaker.pitch),
    '--stdout',
    text,
  ]);
  return decodeWav(wav);
}

/** Where the speech in `samples` begins and ends (TTS output carries quiet padding). */
function speechBounds(samples: Int16Array): { first: number; last: number } {
  const loud = (s: number) => Math.abs(s) > 300;
  let first = samples.findIndex(loud);
  if (first < 0) first = 0;
  let last = samples.length - 1;
  while (last > first && !loud(samples[last] ?? 0)) last -= 1;
  return { first, last };
}

/** One call per speaker: every phrase, each followed by the next pause. */
export async function buildCalls(): Promise<CallAudio[]> {
  const calls: CallAudio[] = [];
  for (const speaker of SPEAKERS) {
    const parts: Int16Array[] = [new Int16Array((LEAD_IN_MS * SAMPLE_RATE) / 1000)];
    const speech: CallAudio['speech'] = [];
    let at = parts[0]?.length ?? 0;
    for (const [index, phrase] of PHRASES.entries()) {
      const samples = resample(await speak(phrase, speaker), SAMPLE_RATE);
      const { first, last } = speechBounds(samples);
      speech.push({
        startMs: ((at + first) * 1000) / SAMPLE_RATE,
        endMs: ((at + last) * 1000) / SAMPLE_RATE,
      });
      const pause = new Int16Array(((PAUSES_MS[index] ?? 1_000) * SAMPLE_RATE) / 1000);
      parts.push(samples, pause);
      at += samples.length + pause.length;
    }
    const joined = new Int16Array(at);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    calls.push({ samples: joined, speech });
  }
  return calls;
}

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIError, APITimeoutError, initializeLogger, stt } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silenceFrames, speechFrames } from '../../../tests/audio/speech.js';
import { EXCHANGES } from '../../../tests/e2e/script.js';
import { concatFrames } from './audio-frames.js';
import { PocketsphinxSTT } from './pocketsphinx-stt.js';
import { decodeWav } from './wav.js';

const PHRASES = [
  'what is the weather like today',
  'tell me about the moon',
  'how far away is the sun',
  'can you recommend a good book',
  'what time is it in london',
  'play some relaxing music',
];
const AGENT_FORMAT = { sampleRate: 24_000, frameMs: 20 };
/** A busy 2-core machine slows pocketsphinx several times over; these tests time nothing. */
const SLOW = { timeoutMs: 120_000 };
const SLOW_TEST_MS = 300_000;

let scratch: string;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  scratch = await mkdtemp(join(tmpdir(), 'parley-stt-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function transcript(event: stt.SpeechEvent): string | undefined {
  return event.alternatives?.[0].text;
}

async function failure(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

describe('PocketsphinxSTT with a phrase grammar', { timeout: SLOW_TEST_MS }, () => {
  it('recognises each phrase flite speaks, word for word', async () => {
    const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: PHRASES, tempDir: scratch });
    const heard: string[] = [];
    for (const phrase of PHRASES) {
      const event = await recognizer.recognize(await speechFrames(phrase, AGENT_FORMAT));
      expect(event.type).toBe(stt.SpeechEventType.FINAL_TRANSCRIPT);
      heard.push(transcript(event) ?? '');
    }
    expect(heard).toEqual(PHRASES);
    expect(await readdir(scratch)).toEqual([]); // every scratch directory was removed
  });

  it('reports the phrase in its normalised form whatever the case and punctuation', async () => {
    const recognizer = new PocketsphinxSTT({
      ...SLOW,
      phrases: ['Tell me about the Moon!', 'Hello.'],
    });
    const event = await recognizer.recognize(
      await speechFrames('tell me about the moon', AGENT_FORMAT),
    );
    expect(transcript(event)).toBe('tell me about the moon');
  });

  it('hears interleaved 48 kHz stereo as well', async () => {
    const mono = concatFrames(
      await speechFrames(PHRASES[1] ?? '', { sampleRate: 48_000, frameMs: 10 }),
    );
    const stereo = new Int16Array(mono.length * 2);
    mono.forEach((sample, i) => {
      stereo[2 * i] = sample;
      stereo[2 * i + 1] = sample;
    });
    const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: PHRASES });
    const event = await recognizer.recognize(new AudioFrame(stereo, 48_000, 2, mono.length));
    expect(transcript(event)).toBe(PHRASES[1]);
  });

  it('hears, every time, an answer heard over WebRTC that starts on its first word', async () => {
    // Recorded from a call in tests/e2e/many-direct-sessions: Opus-decoded packets, no lead-in.
    // Resampling it to 16 kHz dithers, and without padding one recognition in four was empty.
    const fixture = new URL(
      '../../../tests/audio/fixtures/answer-heard-over-webrtc.wav',
      import.meta.url,
    );
    const heard = decodeWav(await readFile(fixture));
    const frame = new AudioFrame(heard.samples, heard.sampleRate, 1, heard.samples.length);
    // The grammar of that test's ten answers: the one under which the empty results were seen.
    const answers = EXCHANGES.map((exchange) => exchange.answer);
    const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: answers });
    const texts = await Promise.all(
      Array.from({ length: 12 }, async () => transcript(await recognizer.recognize(frame))),
    );
    expect(texts).toEqual(Array(12).fill('a spider has eight legs'));
  });

  it('hears nothing in silence', async () => {
    const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: PHRASES });
    const event = await recognizer.recognize(silenceFrames(1_000, AGENT_FORMAT));
    expect(transcript(event)).toBe('');
  });

  it('fails clearly, without retrying, when a phrase has a word the dictionary lacks', async () => {
    const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: ['zzqx hello'] });
    const error = await failure(recognizer.recognize(await speechFrames('hello', AGENT_FORMAT)));
    expect(error.message).toMatch(/zzqx.*missing in the dictionary/);
    expect(error.retryable).toBe(false);
  });

  it('refuses a grammar without words', () => {
    expect(() => new PocketsphinxSTT({ phrases: ['?!', ''] })).toThrow(/at least one phrase/);
  });
});

describe('PocketsphinxSTT without a grammar', { timeout: SLOW_TEST_MS }, () => {
  it('transcribes free speech into mostly the right words', async () => {
    const recognizer = new PocketsphinxSTT(SLOW);
    const event = await recognizer.recognize(await speechFrames(PHRASES[0] ?? '', AGENT_FORMAT));
    const words = (transcript(event) ?? '').split(' ');
    const expected = (PHRASES[0] ?? '').split(' ');
    expect(words.filter((word) => expected.includes(word)).length).toBeGreaterThanOrEqual(4);
  });
});

describe('PocketsphinxSTT given unusable input', () => {
  const recognizer = new PocketsphinxSTT({ ...SLOW, phrases: PHRASES });

  it('rejects an empty buffer', async () => {
    const error = await failure(recognizer.recognize([]));
    expect(error.message).toMatch(/unusable audio: no audio frames/);
    expect(error.retryable).toBe(false);
  });

  it('rejects frames of different sample rates', async () => {
    const frames = [
      new AudioFrame(new Int16Array(160), 16_000, 1, 160),
      new AudioFrame(new Int16Array(480), 48_000, 1, 480),
    ];
    const error = await failure(recognizer.recognize(frames));
    expect(error.message).toMatch(/unusable audio: frames differ in sample rate/);
  });

  it('rejects a frame with no samples', async () => {
    const error = await failure(
      recognizer.recognize(new AudioFrame(new Int16Array(0), 16_000, 1, 0)),
    );
    expect(error.message).toMatch(/unusable audio: no samples/);
  });

  it('says how to install the engine when it is missing', async () => {
    const missing = new PocketsphinxSTT({ command: 'pocketsphinx_not_installed_here' });
    const error = await failure(missing.recognize(silenceFrames(100, AGENT_FORMAT)));
    expect(error.message).toMatch(/apt-get install pocketsphinx pocketsphinx-en-us/);
  });

  it('gives up with a retryable timeout error when the engine takes too long', async () => {
    // Loading the acoustic model alone takes pocketsphinx far longer than 1 ms.
    const impatient = new PocketsphinxSTT({ phrases: PHRASES, timeoutMs: 1 });
    const error = await failure(impatient.recognize(silenceFrames(100, AGENT_FORMAT)));
    expect(error).toBeInstanceOf(APITimeoutError);
    expect(error.retryable).toBe(true);
  });
});

import { DEFAULT_API_CONNECT_OPTIONS, initializeLogger, tts } from '@livekit/agents';
import * as cartesia from '@livekit/agents-plugin-cartesia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatFrames } from '../../../agent/providers/local/audio-frames.js';
import { durationMs, rms } from '../../audio/measure.js';
import { type CartesiaEmulator, startCartesiaEmulator } from './cartesia-emulator.js';

/** What the TTS reports on its 'error' event (the type is not exported by name). */
type TTSError = Parameters<tts.TTSCallbacks['error']>[0];

let emulator: CartesiaEmulator;
const engines: cartesia.TTS[] = [];

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'fatal' });
  emulator = await startCartesiaEmulator();
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await emulator.close();
});

function pluginTTS(options: Partial<cartesia.TTSOptions> = {}) {
  const engine = new cartesia.TTS({ baseUrl: emulator.baseURL, apiKey: 'emulator', ...options });
  const errors: TTSError[] = [];
  engine.on('error', (error) => errors.push(error));
  engines.push(engine);
  return { engine, errors };
}

async function speak(engine: cartesia.TTS, text: string, maxRetry = 0) {
  const stream = engine.stream({ connOptions: { ...DEFAULT_API_CONNECT_OPTIONS, maxRetry } });
  stream.pushText(text);
  stream.endInput();
  const events: tts.SynthesizedAudio[] = [];
  try {
    for await (const event of stream) {
      if (event !== tts.SynthesizeStream.END_OF_STREAM) events.push(event);
    }
  } finally {
    stream.close();
  }
  return events;
}

describe('Cartesia emulator behind @livekit/agents-plugin-cartesia', () => {
  it('streams speech over /tts/websocket as non-silent frames at the requested rate', async () => {
    const { engine, errors } = pluginTTS();
    const text = 'Welcome to the lighthouse. The lamp is lit every evening at dusk.';
    const events = await speak(engine, text);
    const frames = events.map((event) => event.frame);
    expect(errors).toEqual([]);
    expect(frames.every((frame) => frame.sampleRate === 24_000)).toBe(true);
    expect(durationMs(frames)).toBeGreaterThan(2000);
    expect(rms(concatFrames(frames))).toBeGreaterThan(500);
    expect(events.at(-1)?.final).toBe(true);
    const words = events.flatMap((event) => event.timedTranscripts ?? []).map((t) => t.text);
    expect(words.join('')).toContain('lighthouse.');

    expect(emulator.requests.connections.at(-1)).toEqual({
      apiKey: 'emulator',
      version: '2025-04-16',
      via: 'header',
    });
    const sent = emulator.requests.websocket as Record<string, unknown>[];
    expect(sent.at(-1)).toMatchObject({ transcript: ' ', continue: false });
    expect(sent.at(-2)).toMatchObject({
      model_id: 'sonic-3',
      continue: true,
      add_timestamps: true,
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24_000 },
    });
  });

  it('resamples to another rate and reuses the pooled socket for the next turn', async () => {
    const { engine } = pluginTTS({ sampleRate: 16_000, wordTimestamps: false });
    const connections = emulator.requests.connections.length;
    const first = (await speak(engine, 'First turn, spoken slowly.')).map((e) => e.frame);
    const second = (await speak(engine, 'Second turn, also spoken.')).map((e) => e.frame);
    expect(first.every((frame) => frame.sampleRate === 16_000)).toBe(true);
    expect(rms(concatFrames(second))).toBeGreaterThan(500);
    expect(emulator.requests.connections.length).toBe(connections + 1);
  });

  it('a socket closed mid-synthesis surfaces as a connection error', async () => {
    const { engine, errors } = pluginTTS();
    emulator.closeNextSocket(2);
    const events = await speak(engine, 'This sentence will be cut off in the middle of speaking.');
    expect(events.length).toBeLessThan(10);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.message).toContain('closed mid-generation');
  });

  it('a wrong API key is refused at the handshake with 401', async () => {
    const locked = await startCartesiaEmulator({ apiKey: 'right' });
    try {
      const engine = new cartesia.TTS({ baseUrl: locked.baseURL, apiKey: 'wrong' });
      const errors: TTSError[] = [];
      engine.on('error', (error) => errors.push(error));
      engines.push(engine);
      expect(await speak(engine, 'Nobody will hear this.')).toEqual([]);
      expect(errors[0]?.error).toMatchObject({ statusCode: 401 });
      expect(locked.requests.connections).toEqual([]);
    } finally {
      await locked.close();
    }
  });
});

import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeWav } from '../../../agent/providers/local/wav.js';
import { rms } from '../../audio/measure.js';
import { type CartesiaEmulator, startCartesiaEmulator } from './cartesia-emulator.js';

let emulator: CartesiaEmulator;

beforeAll(async () => {
  emulator = await startCartesiaEmulator();
});

afterAll(async () => {
  await emulator.close();
});

type Event = Record<string, unknown> & { type: string; context_id: string };

/** A client on `/tts/websocket` that records every event and can wait for one. */
async function connect(query = 'api_key=emulator&cartesia_version=2025-04-16') {
  const ws = new WebSocket(`${emulator.baseURL.replace('http', 'ws')}/tts/websocket?${query}`);
  await once(ws, 'open');
  const events: Event[] = [];
  ws.on('message', (raw) => events.push(JSON.parse(raw.toString()) as Event));
  const until = (match: (event: Event) => boolean) =>
    new Promise<Event>((resolve) => {
      const found = events.find(match);
      if (found !== undefined) return resolve(found);
      const listener = () => {
        const last = events.at(-1);
        if (last !== undefined && match(last)) {
          ws.off('message', listener);
          resolve(last);
        }
      };
      ws.on('message', listener);
    });
  return { ws, events, until };
}

const request = (contextId: string, transcript: string, extra: object = {}) =>
  JSON.stringify({
    model_id: 'sonic-2',
    transcript,
    voice: { mode: 'id', id: '794f9389-aac1-45b6-b726-9d9369183238' },
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 22_050 },
    language: 'en',
    context_id: contextId,
    ...extra,
  });

function pcm16(events: Event[], contextId: string): Int16Array {
  const bytes = Buffer.concat(
    events
      .filter((event) => event.type === 'chunk' && event.context_id === contextId)
      .map((event) => Buffer.from(String(event.data), 'base64')),
  );
  return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
}

describe('Cartesia emulator, /tts/websocket protocol', () => {
  it('speaks continued transcripts of one context in order, then done', async () => {
    const { ws, events, until } = await connect();
    ws.send(request('ctx-a', 'Hello there. ', { continue: true, add_timestamps: true }));
    ws.send(request('ctx-a', 'How are you today?', { continue: false, add_timestamps: true }));
    await until((event) => event.type === 'done' && event.context_id === 'ctx-a');
    ws.close();
    const types = events.map((event) => event.type);
    expect(types.at(-1)).toBe('done');
    expect(types.filter((type) => type === 'done')).toHaveLength(1);
    expect(events.find((event) => event.type === 'chunk')).toMatchObject({
      done: false,
      status_code: 206,
      context_id: 'ctx-a',
    });
    const stamps = events.filter((event) => event.type === 'timestamps');
    const words = stamps.flatMap((event) => (event.word_timestamps as { words: string[] }).words);
    expect(words).toEqual(['Hello', 'there.', 'How', 'are', 'you', 'today?']);
    const starts = stamps.flatMap((event) => (event.word_timestamps as { start: number[] }).start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const audio = pcm16(events, 'ctx-a');
    expect(audio.length / 22_050).toBeGreaterThan(1);
    expect(rms(audio)).toBeGreaterThan(500);
  });

  it('answers flush with flush_done, and a cancelled context sends nothing more', async () => {
    const { ws, events, until } = await connect();
    emulator.ttfbMs = 300;
    try {
      ws.send(request('cancelled', 'This sentence is cancelled before its first byte.'));
      ws.send(JSON.stringify({ context_id: 'cancelled', cancel: true }));
      ws.send(request('kept', 'Hi.', { continue: true, flush: true }));
      const flushed = await until((event) => event.type === 'flush_done');
      expect(flushed).toMatchObject({ context_id: 'kept', flush_id: 1, flush_done: true });
      ws.send(request('kept', ' ', { continue: false }));
      await until((event) => event.type === 'done' && event.context_id === 'kept');
      ws.close();
      // Both contexts waited out the same time to first byte, the cancelled one first: had
      // the cancel been ignored, its audio would have come before the kept context's.
      expect(events.filter((event) => event.context_id === 'cancelled')).toEqual([]);
      expect(pcm16(events, 'kept').length).toBeGreaterThan(0);
    } finally {
      emulator.ttfbMs = 0;
    }
  });

  it('reports an invalid request as an error event in the shape of the API version', async () => {
    const old = await connect();
    old.ws.send(request('bad', 'Hi.').replace('pcm_s16le', 'pcm_s8'));
    const oldError = await old.until((event) => event.type === 'error');
    old.ws.close();
    expect(oldError).toMatchObject({ done: true, status_code: 400, context_id: 'bad' });
    expect(oldError.error).toContain('output_format.encoding');

    const current = await connect('api_key=emulator&cartesia_version=2026-03-01');
    current.ws.send(request('bad', 'Hi.').replace('22050', '12345'));
    const newError = await current.until((event) => event.type === 'error');
    current.ws.close();
    expect(newError).toMatchObject({ done: true, status_code: 400, title: 'Invalid request' });
    expect(newError.message).toContain('output_format.sample_rate');
  });

  it('refuses a handshake without a key (401) or without a version (400)', async () => {
    const url = `${emulator.baseURL.replace('http', 'ws')}/tts/websocket`;
    const statusOf = async (target: string) => {
      const ws = new WebSocket(target);
      ws.on('error', () => {});
      const [, response] = (await once(ws, 'unexpected-response')) as [
        unknown,
        { statusCode: number },
      ];
      return response.statusCode;
    };
    expect(await statusOf(`${url}?cartesia_version=2025-04-16`)).toBe(401);
    expect(await statusOf(`${url}?api_key=emulator`)).toBe(400);
  });
});

describe('Cartesia emulator, POST /tts/bytes', () => {
  const post = (body: object, version = '2025-04-16') =>
    fetch(`${emulator.baseURL}/tts/bytes`, {
      method: 'POST',
      headers: { 'X-API-Key': 'emulator', 'Cartesia-Version': version },
      body: JSON.stringify({
        model_id: 'sonic-2',
        transcript: 'The keeper climbs the stairs.',
        voice: { mode: 'id', id: 'any-voice' },
        ...body,
      }),
    });

  it('returns a WAV of speech at the requested rate', async () => {
    const response = await post({
      output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 44_100 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const audio = decodeWav(new Uint8Array(await response.arrayBuffer()));
    expect(audio.sampleRate).toBe(44_100);
    expect(audio.samples.length / 44_100).toBeGreaterThan(1);
    expect(rms(audio.samples)).toBeGreaterThan(500);
    expect(emulator.requests.bytes.at(-1)?.transcript).toBe('The keeper climbs the stairs.');
  });

  it('returns raw float32 PCM within [-1, 1]', async () => {
    const response = await post({
      output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 16_000 },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length % 4).toBe(0);
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const peak = samples.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
    expect(peak).toBeGreaterThan(0.05);
    expect(peak).toBeLessThanOrEqual(1);
  });

  it('rejects an empty transcript with 400, as text or JSON by version', async () => {
    const format = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16_000 };
    const old = await post({ transcript: '  ', output_format: format });
    expect(old.status).toBe(400);
    expect(await old.text()).toMatch(/^Invalid request: transcript/);
    const current = await post({ transcript: '', output_format: format }, '2026-03-01');
    expect(current.status).toBe(400);
    expect(await current.json()).toMatchObject({ title: 'Invalid request' });
  });
});

import {
  inference,
  initializeLogger,
  VAD,
  type VADEvent,
  VADEventType,
  type VADStream,
} from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { toFrames } from '../../providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../providers/local/flite.js';
import { SharedVAD } from './shared-vad.js';

/** Parley's VAD as it is, counting the streams opened on it (each runs the model on its own). */
class CountedVAD extends VAD {
  readonly label = 'counted vad';
  opened = 0;
  constructor(private readonly inner: VAD) {
    super(inner.capabilities);
  }
  stream(): VADStream {
    this.opened++;
    return this.inner.stream();
  }
}

let silence: AudioFrame[];
let speech: AudioFrame[];
let model: VAD;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  model = new inference.VAD();
  speech = toFrames(await synthesizeSpeech('Tell me about the planets, please.'), 16_000, 20);
  silence = toFrames({ samples: new Int16Array(16_000), sampleRate: 16_000 }, 16_000, 20);
});

/** Reads a stream's events until it ends or `stop` says enough. */
async function events(stream: VADStream, stop: (seen: VADEvent[]) => boolean) {
  const seen: VADEvent[] = [];
  for await (const event of stream) {
    seen.push(event);
    if (stop(seen)) break;
  }
  return seen;
}

const endedSpeech = (seen: VADEvent[]) => seen.some((e) => e.type === VADEventType.END_OF_SPEECH);
const speechEvents = (seen: VADEvent[]) =>
  seen.filter((e) => e.type !== VADEventType.INFERENCE_DONE).map((e) => VADEventType[e.type]);

describe('SharedVAD', () => {
  it('gives two streams of one call the same speech events from one inference stream', async () => {
    const counted = new CountedVAD(model);
    const vad = new SharedVAD(counted);
    const turns = vad.stream();
    const utterances = vad.stream();
    const heardByTurns = events(turns, endedSpeech);
    const heardByUtterances = events(utterances, endedSpeech);
    // Both are fed the same microphone, as the session does.
    for (const frame of [...silence, ...speech, ...silence]) {
      turns.pushFrame(frame);
      utterances.pushFrame(frame);
    }
    const [a, b] = await Promise.all([heardByTurns, heardByUtterances]);
    turns.close();
    utterances.close();

    expect(counted.opened).toBe(1);
    expect(speechEvents(a)).toEqual(['START_OF_SPEECH', 'END_OF_SPEECH']);
    expect(speechEvents(b)).toEqual(speechEvents(a));
    const inferences = (seen: VADEvent[]) =>
      seen.filter((e) => e.type === VADEventType.INFERENCE_DONE).length;
    expect(inferences(b)).toBe(inferences(a));
    // The utterance handed to speech-to-text holds the speech (more than a second of it).
    const end = b.find((e) => e.type === VADEventType.END_OF_SPEECH);
    const samples = (end?.frames ?? []).reduce((n, f) => n + f.samplesPerChannel, 0);
    expect(samples).toBeGreaterThan(16_000);
  }, 60_000);

  it('keeps listening when the stream that fed it closes, and reopens after all closed', async () => {
    const counted = new CountedVAD(model);
    const vad = new SharedVAD(counted);
    const first = vad.stream();
    const second = vad.stream();
    first.close();
    const heard = events(second, endedSpeech);
    for (const frame of [...silence, ...speech, ...silence]) second.pushFrame(frame);
    expect(speechEvents(await heard)).toEqual(['START_OF_SPEECH', 'END_OF_SPEECH']);
    second.close();
    expect(counted.opened).toBe(1);

    const third = vad.stream();
    third.close();
    expect(counted.opened).toBe(2);
  }, 60_000);
});

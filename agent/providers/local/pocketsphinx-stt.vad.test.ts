import { inference, initializeLogger, stt } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { silenceFrames, speechFrames } from '../../../tests/audio/speech.js';
import { PocketsphinxSTT } from './pocketsphinx-stt.js';

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'warn' });
});

/** What a voice session does with a non-streaming STT: the VAD cuts utterances, we transcribe. */
describe('PocketsphinxSTT behind the framework’s VAD stream adapter', () => {
  it('transcribes two utterances separated by a pause, one final transcript each', async () => {
    const phrases = ['tell me about the moon', 'play some relaxing music'];
    const format = { sampleRate: 48_000, frameMs: 10 };
    const vad = new inference.VAD();
    const adapter = new stt.StreamAdapter(
      new PocketsphinxSTT({ phrases, timeoutMs: 120_000 }),
      vad,
    );
    const stream = adapter.stream();

    const frames = [
      ...silenceFrames(500, format),
      ...(await speechFrames(phrases[0] ?? '', format)),
      ...silenceFrames(1_500, format),
      ...(await speechFrames(phrases[1] ?? '', format)),
      ...silenceFrames(1_500, format),
    ];
    for (const frame of frames) stream.pushFrame(frame);

    const heard: string[] = [];
    let speechStarts = 0;
    for await (const event of stream) {
      if (event.type === stt.SpeechEventType.START_OF_SPEECH) speechStarts++;
      if (event.type === stt.SpeechEventType.FINAL_TRANSCRIPT) {
        heard.push(event.alternatives?.[0].text ?? '');
        if (heard.length === phrases.length) break;
      }
    }
    stream.close();
    await adapter.close();

    expect(heard).toEqual(phrases);
    expect(speechStarts).toBe(2);
  });
});

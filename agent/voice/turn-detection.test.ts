import { asLanguageCode, initializeLogger } from '@livekit/agents';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { isAppError } from '../../core/errors.js';
import { toFrames } from '../providers/local/audio-frames.js';
import { synthesizeSpeech } from '../providers/local/flite.js';
import { voiceModels } from './session.js';
import { createTurnDetector, InProcessInferenceExecutor } from './turn-detection.js';
import { createVoiceVad } from './vad.js';

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'warn' });
});

/**
 * What the session's audio end-of-turn stream answers after `text` and 200 ms of silence
 * (when audio_recognition asks): the probability that the turn is over.
 */
async function endOfTurnProbability(text: string): Promise<number> {
  const detector = createTurnDetector(new InProcessInferenceExecutor());
  const stream = detector.stream();
  try {
    const speech = await synthesizeSpeech(text, { voice: 'slt' });
    const silence = { samples: new Int16Array(3_200), sampleRate: 16_000 };
    for (const frame of [...toFrames(speech, 16_000, 20), ...toFrames(silence, 16_000, 20)]) {
      stream.pushAudio(frame);
    }
    // The stream moves pushed audio into its model buffer in promise callbacks: let them run.
    await new Promise((resolve) => setImmediate(resolve));
    const prediction = await stream.predict().await;
    return prediction.endOfTurnProbability;
  } finally {
    await stream.aclose();
  }
}

describe('end-of-turn detection', () => {
  it('refuses to build the model detector without an executor, instead of always saying "over"', () => {
    expect(() => createTurnDetector(undefined)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    try {
      createTurnDetector(undefined);
    } catch (error) {
      expect(isAppError(error) && error.message).toMatch(/TURN_DETECTION=model/);
    }
  });

  it('runs the on-device model in process: an unfinished phrase is unlikely to end the turn', async () => {
    // The English threshold the session compares the prediction with (0.36 in agents 1.9).
    const threshold = createTurnDetector(new InProcessInferenceExecutor()).thresholds.en;
    expect(threshold).toBeGreaterThan(0);
    const unfinished = await endOfTurnProbability('I would like to book a table for two and');
    const complete = await endOfTurnProbability('Yes, that sounds good.');
    // Without an executor agents answers exactly 1.0 for both.
    expect(unfinished).toBeLessThan(threshold ?? 0);
    expect(complete).toBeGreaterThan(threshold ?? 1);
  });

  it('gives the session detector TURN_MODEL_THRESHOLD, or the table agents ships without it', async () => {
    const models = (env: Record<string, string>) =>
      voiceModels(
        loadConfig({ TURN_DETECTION: 'model', ...env }),
        {
          openai: new OpenAI({ apiKey: 'unused' }),
          vad: createVoiceVad(),
          inferenceExecutor: new InProcessInferenceExecutor(),
        },
        { voiceId: null, language: 'en' },
      ).turnDetector;
    // What the session asks: a scalar override replaces agents' whole per-language table.
    expect(
      await models({ TURN_MODEL_THRESHOLD: '0.2' })?.unlikelyThreshold(asLanguageCode('en')),
    ).toBe(0.2);
    expect(
      await models({ TURN_MODEL_THRESHOLD: '0.2' })?.unlikelyThreshold(asLanguageCode('fr')),
    ).toBe(0.2);
    expect(await models({})?.unlikelyThreshold(asLanguageCode('en'))).toBe(0.36);
    expect(() => loadConfig({ TURN_MODEL_THRESHOLD: '1.5' })).toThrow(/TURN_MODEL_THRESHOLD/);
  });

  it('rejects a request it has no runner for', async () => {
    await expect(
      new InProcessInferenceExecutor().doInference('something_else', { pcm: '' }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

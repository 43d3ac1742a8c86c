import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.js';
import { FLITE_VOICES, synthesizeSpeech } from './flite.js';

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

describe('synthesizeSpeech', () => {
  it('speaks a sentence as audible 16 kHz audio of a plausible length', async () => {
    const { samples, sampleRate } = await synthesizeSpeech('what is the weather like today');
    const seconds = samples.length / sampleRate;
    expect(sampleRate).toBe(16_000);
    // Six words at an ordinary speaking rate: between one and four seconds.
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(4);
    expect(rms(samples)).toBeGreaterThan(500);
  });

  it('takes longer to say more words', async () => {
    const short = await synthesizeSpeech('hello');
    const long = await synthesizeSpeech('hello there, it is a lovely morning for a long walk');
    expect(long.samples.length).toBeGreaterThan(short.samples.length * 2);
  });

  it.each(FLITE_VOICES)('speaks with voice %s', async (voice) => {
    const { samples, sampleRate } = await synthesizeSpeech('good morning', { voice });
    expect(sampleRate).toBe(voice === 'kal' ? 8_000 : 16_000);
    expect(rms(samples)).toBeGreaterThan(500);
  });

  it('gives no samples for blank text', async () => {
    const { samples } = await synthesizeSpeech('   ');
    expect(samples.length).toBe(0);
  });

  it('reads text that looks like a command-line option as text', async () => {
    const { samples } = await synthesizeSpeech('-voice slt');
    expect(rms(samples)).toBeGreaterThan(500);
  });

  it('rejects an unknown voice with a provider error', async () => {
    const error = await synthesizeSpeech('hello', { voice: 'nobody' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('PROVIDER.FAILED');
  });
});

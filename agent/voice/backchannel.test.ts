import { describe, expect, it } from 'vitest';
import { isBackchannel } from './backchannel.js';

describe('isBackchannel', () => {
  it.each([
    'uh-huh',
    'Uh huh.',
    'Mm-hmm.',
    'mhm',
    'Yeah.',
    'yeah, right',
    'Okay, got it.',
    'I see.',
    'all right',
    'oh, really?',
    'Thank you.',
  ])('"%s" is only listening', (text) => {
    expect(isBackchannel(text)).toBe(true);
  });

  it.each([
    '',
    '...',
    'no',
    'wait',
    'stop',
    'yeah but what about the weather',
    'right, stop',
    'okay, tell me more about Mars',
    'sorry?',
    'yeah yeah yeah yeah yeah yeah yeah',
    'i',
    'got',
  ])('"%s" takes the turn', (text) => {
    expect(isBackchannel(text)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { PlayedSegment } from '../../voice/harness.js';
import { newObservation, type Observation } from './run.js';
import { cleanScenarios, FALLBACK_ANSWER, LONG_ANSWER } from './scenarios.js';
import { judgeReplies } from './texts.js';

/** The LLM's replies, and how long each one's speech lasts. */
const replyMs = new Map([
  [LONG_ANSWER, 10_000],
  [FALLBACK_ANSWER, 1_000],
]);
const words = LONG_ANSWER.split(' ');
const wordMs = 10_000 / words.length;

/** Judges one reply stored as interrupted after `playedMs` of its audio went out. */
function judgeCut(stored: string, playedMs: number): Observation {
  const scenario = cleanScenarios().find((s) => s.category === 'interruption');
  if (scenario === undefined) throw new Error('no interruption scenario');
  const o = newObservation(scenario);
  const segment: PlayedSegment = {
    index: 0,
    firstFrameAt: 0,
    startedAt: 0,
    lastPlayedAt: playedMs,
    endedAt: playedMs,
    playedMs,
    peakRms: 1000,
    interrupted: true,
  };
  judgeReplies(o, [{ sender: 'character', text: stored, interrupted: true }], [segment], replyMs);
  return o;
}

describe('judging a cut reply', () => {
  it('takes the start of the reply, as many words as the audio played', () => {
    const o = judgeCut(words.slice(0, Math.round(words.length / 2)).join(' '), 5_000);
    expect(o.replyStructureOk, o.notes.join('; ')).toBe(true);
    expect(o.replyTextOk, o.notes.join('; ')).toBe(true);
  });

  it('takes the whole text when the cut came as its last words played', () => {
    const o = judgeCut(LONG_ANSWER, 10_000 - 1.5 * wordMs);
    expect(o.replyStructureOk, o.notes.join('; ')).toBe(true);
  });

  it('takes a two-word reply whole when it was cut in its second word', () => {
    const o = judgeCut(FALLBACK_ANSWER, 600);
    expect(o.replyStructureOk, o.notes.join('; ')).toBe(true);
  });

  it('refuses the whole text while more than its last words were still due, and says why', () => {
    for (const playedMs of [1_500, 10_000 - 4 * wordMs]) {
      const o = judgeCut(LONG_ANSWER, playedMs);
      expect(o.replyStructureOk, `${playedMs} ms`).toBe(false);
      expect(o.notes.join('; ')).toMatch(/is not a cut of a reply the LLM gave/);
    }
  });

  it('refuses words the reply does not start with', () => {
    const o = judgeCut(words.slice(2, 8).join(' '), 3_000);
    expect(o.replyStructureOk).toBe(false);
  });
});

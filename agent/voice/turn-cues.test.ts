import { initializeLogger, llm, voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { type Cue, TranscriptCueDetector, unfinishedCue, verdictOf } from './turn-cues.js';

/** Each rule with turns only it keeps open: removing the rule turns its row red. */
const OPEN: [Cue, string[]][] = [
  [
    'trailing punctuation',
    ['I need eggs, milk, butter,', 'well...', 'the thing is:', 'so it was…'],
  ],
  [
    'conjunction',
    ['a table for two and', "I can't come because", 'tea or', 'I would go if', 'I was tired so'],
  ],
  ['preposition', ['a coffee with', 'a cup of', 'I want to go to', 'a letter from']],
  ['determiner', ['I need to get to the', 'can I have a', 'this is my', 'I lost their']],
  ['copula', ['my number is', 'the code is.', 'the problem was', 'my reasons are']],
  ['filler', ['I was thinking, um', 'my flight leaves at uh', 'it was fine, I mean', 'erm']],
  [
    'number in progress',
    [
      'the code is four seven',
      'extension two',
      'my number is 555 218',
      'you can reach me on oh seven seven',
      'the reference is B seven',
      'I live at forty two',
    ],
  ],
  ['number stem', ['the ticket was thirty', 'it was built in nineteen', 'about two hundred']],
  ['month', ['my birthday is June', 'we met in October.', 'the deadline is the third of March']],
  ['list in progress', ['we need flour, sugar, butter', 'I visited Oslo, Bergen, Tromso.']],
];

/** Complete turns, some ending on words that look like cues. */
const DONE = [
  'yes',
  'sure, go ahead.',
  'what time is it?',
  'who is it for?',
  'what are you up to?',
  'count me in',
  'turn it off',
  'here it is',
  "that's who they are.",
  'my number is five five five, two one eight, nine nine zero four',
  'my number is 5552189904',
  'the answer is seven',
  'call me at five',
  "I'm forty two",
  'we need flour, sugar and butter',
  'I think so',
  'I hope so.',
  'I love you!',
  'yes, you may',
  '',
];

describe('transcript cues (English rules)', () => {
  it.each(OPEN)('%s keeps a turn open', (cue, turns) => {
    for (const turn of turns) expect(unfinishedCue(turn), turn).toBe(cue);
  });

  it('finds no cue in complete turns, whatever their last word', () => {
    for (const turn of DONE) expect(unfinishedCue(turn), turn).toBeUndefined();
  });

  it('calls grammar cues open, a number, month or list unsure, and no cue over', () => {
    expect(['my number is', 'and', 'um', 'a coffee with'].map((t) => verdictOf(t))).toEqual(
      Array(4).fill('open'),
    );
    const unsure = ['the code is four seven', 'thirty', 'in June', 'eggs, milk, butter'];
    expect(unsure.map((t) => verdictOf(t))).toEqual(Array(4).fill('unsure'));
    expect(verdictOf('the answer is seven')).toBe('over');
  });

  it('ignores case and a final full stop (Whisper ends most segments with one)', () => {
    expect(unfinishedCue('My number is.')).toBe('copula');
    expect(unfinishedCue('And.')).toBe('conjunction');
  });
});

function userSaid(text: string): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'assistant', content: 'Hello, how can I help?' });
  ctx.addMessage({ role: 'user', content: text });
  return ctx;
}

describe('TranscriptCueDetector (agents’ text turn-detector interface)', () => {
  const detector = new TranscriptCueDetector('en');

  it('answers "not over" (under its threshold) on a cue, "over" otherwise', async () => {
    const threshold = await detector.unlikelyThreshold();
    expect(await detector.predictEndOfTurn(userSaid('my number is'))).toBeLessThan(threshold);
    expect(await detector.predictEndOfTurn(userSaid('yes, please'))).toBeGreaterThan(threshold);
  });

  it('reads only the user’s last words, not the character’s', async () => {
    const ctx = llm.ChatContext.empty();
    ctx.addMessage({ role: 'user', content: 'I was thinking, um' });
    ctx.addMessage({ role: 'assistant', content: 'Take your time and' });
    expect(await detector.predictEndOfTurn(ctx)).toBe(1);
  });

  it('once steered, sets the session’s maximum delay to its verdict’s wait before "not over"', async () => {
    initializeLogger({ pretty: false, level: 'warn' });
    const steered = new TranscriptCueDetector('en', { unsureMs: 2_000, openMs: 3_000 });
    const session = new voice.AgentSession({
      turnHandling: { endpointing: { mode: 'fixed', minDelay: 600, maxDelay: 3_000 } },
    });
    steered.steer(session);
    const maxDelay = () => session.sessionOptions.turnHandling.endpointing.maxDelay;
    expect(await steered.predictEndOfTurn(userSaid('the ticket was thirty'))).toBe(0);
    expect(maxDelay()).toBe(2_000);
    expect(await steered.predictEndOfTurn(userSaid('the ticket was thirty five pounds'))).toBe(1);
    expect(maxDelay()).toBe(2_000);
    expect(await steered.predictEndOfTurn(userSaid('I would like a table for two and'))).toBe(0);
    expect(maxDelay()).toBe(3_000);
    expect(session.sessionOptions.turnHandling.endpointing.minDelay).toBe(600);
  });

  it('declines languages without a cue table, so agents waits the minimum as VAD-only does', async () => {
    expect(await detector.supportsLanguage('en-US')).toBe(true);
    expect(await detector.supportsLanguage(undefined)).toBe(true);
    expect(await detector.supportsLanguage('fr')).toBe(false);
    expect(await new TranscriptCueDetector('de').supportsLanguage(undefined)).toBe(false);
  });
});

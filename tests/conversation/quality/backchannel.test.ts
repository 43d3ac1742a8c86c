import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../../db/queries/messages.js';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { SPEAKERS, type Speaker } from './audio.js';
import { type Observation, runScenario } from './run.js';
import { INTERRUPTIONS, LONG_ANSWER, LONG_QUESTION, type Scenario } from './scenarios.js';
import { type QualitySession, startQualitySession } from './session.js';
import { normalize } from './texts.js';

/**
 * TURN_BACKCHANNELS=resume (the default, agent/voice/backchannel.ts) through Parley's real
 * voice session and the direct call's playout: "uh-huh" said over the character's answer no
 * longer loses the answer, and a real interruption still stops it. A behaviour check: the
 * bench (`npm run bench -- barge-in-tuning`) measures how fast.
 */

let database: TestDatabase;
let session: QualitySession | undefined;

beforeAll(async () => {
  database = await openTestDatabase();
  session = await startQualitySession(database.db, 'parley-vad');
}, 120_000);
afterAll(async () => {
  await session?.harness.close();
  await database.close();
});

function overAnswer(
  category: 'backchannel' | 'interruption',
  say: string,
  speaker: number,
): Scenario {
  return {
    id: `${category} "${say}"`,
    category,
    speaker: SPEAKERS[speaker] as Speaker,
    turn: [{ say: LONG_QUESTION }],
    overlap: [{ say }],
  };
}

/** Plays `scenario` and returns what happened and what the room stored meanwhile. */
async function play(scenario: Scenario) {
  if (session === undefined) throw new Error('no session');
  const { harness } = session;
  const before = (await listMessages(database.db, { chatRoomId: session.chatRoomId, limit: 1 }))
    .messages[0]?.seq;
  const since = performance.now();
  const o: Observation = await runScenario(database.db, session, scenario);
  const stored = await listMessages(database.db, {
    chatRoomId: session.chatRoomId,
    ...(before === undefined ? {} : { afterSeq: before }),
    limit: 100,
  });
  const falseInterruptions = harness.timeline.falseInterruptions.filter((at) => at > since);
  const said = `${scenario.id}: ${JSON.stringify({ ...o, scenario: undefined })}\n${harness.timeline.describe(since)}`;
  return { o, stored: stored.messages, falseInterruptions, said };
}

describe('backchannels over the answer (TURN_BACKCHANNELS=resume)', () => {
  it('an "uh-huh, I see" long enough to pause the answer: it resumes, whole, and nothing is stored for it', async () => {
    const { o, stored, falseInterruptions, said } = await play(
      overAnswer('backchannel', 'uh-huh, I see', 1),
    );
    expect(o.error, said).toBeUndefined();
    // Over a second of speech: the VAD pauses the answer at 500 ms; it resumed, not cut.
    expect(falseInterruptions.length, said).toBeGreaterThanOrEqual(1);
    expect(o.falseBargeIn, said).toBe(false);
    expect(o.answeredBackchannel, said).toBe(false);
    expect(
      stored.map((m) => [m.sender, normalize(m.text), m.interrupted]),
      said,
    ).toEqual([
      ['user', normalize(LONG_QUESTION), false],
      ['character', normalize(LONG_ANSWER), false],
    ]);
  }, 180_000);

  it('a real interruption still stops the answer and is answered', async () => {
    const { o, stored, said } = await play(overAnswer('interruption', INTERRUPTIONS[1] ?? '', 3));
    expect(o.error, said).toBeUndefined();
    expect(o.missedBargeIn, said).toBe(false);
    expect(o.stopMs, said).toBeDefined();
    expect(o.replyStructureOk, said).toBe(true);
    const cut = stored.find((m) => m.sender === 'character' && m.interrupted);
    expect(cut, said).toBeDefined();
    expect(
      stored.some(
        (m) => m.sender === 'user' && normalize(m.text) === normalize(INTERRUPTIONS[1] ?? ''),
      ),
      said,
    ).toBe(true);
  }, 180_000);
});

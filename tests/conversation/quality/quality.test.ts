import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { type Observation, runScenario } from './run.js';
import { describeNoise, testScenarios } from './scenarios.js';
import { score } from './score.js';
import { parleyConfig, type QualitySession, startQualitySession } from './session.js';

/**
 * The conversation-quality suite's small set (./scenarios.ts `testScenarios`) through Parley's
 * voice session with its default turn detection: espeak-ng and flite voices at real-time pace,
 * a pause inside a turn, a short turn, a backchannel and a cough over the character's answer,
 * a real interruption, music at 10 dB SNR. A behaviour check with loose thresholds, not a
 * timing check: `npm run bench -- conversation` measures the full suite.
 */

let database: TestDatabase;
let session: QualitySession | undefined;
const observations: Observation[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  // Parley as it ships: the default TURN_DETECTION and endpointing.
  session = await startQualitySession(
    database.db,
    parleyConfig(loadConfig({}).voice.turnDetection),
  );
}, 120_000);
afterAll(async () => {
  await session?.harness.close();
  await database.close();
});

const describeObservation = (o: Observation) =>
  `${o.scenario.id} (${describeNoise(o.scenario.noise)}): ${JSON.stringify({ ...o, scenario: undefined })}`;

describe('conversation quality (small set)', () => {
  it.each(testScenarios().map((s) => [s.id, s] as const))('%s', async (_id, scenario) => {
    if (session === undefined) throw new Error('no session');
    const o = await runScenario(database.db, session, scenario);
    observations.push(o);
    const said = describeObservation(o);
    expect(o.error, said).toBeUndefined();
    // What was stored is what was said and what was played, whatever the turn-taking did. How
    // many words of a cut reply were played depends on the machine keeping real time, so the
    // test checks that a cut reply is the start of its text (all of it only when the cut came
    // as its last words played); the bench scores its length.
    expect(o.userTextOk, said).toBe(true);
    expect(o.replyStructureOk, said).toBe(true);
    if (scenario.category === 'interruption') expect(o.missedBargeIn, said).toBe(false);
    // A cough has no words; "uh-huh" is only a backchannel (TURN_BACKCHANNELS=resume): either
    // may pause the answer, neither cuts it (./backchannel.test.ts has the details).
    if (scenario.category === 'backchannel') expect(o.falseBargeIn, said).toBe(false);
    if (scenario.category === 'short') expect(o.cutOff, said).toBe(false);
  });

  it('scores the set: every turn answered, most pauses held', () => {
    const s = score(observations);
    expect(s.scenarios).toBe(testScenarios().length);
    expect(s.errors).toBe(0);
    // Loose: the bench holds the real targets; here a broken endpointing (every pause a cut)
    // or a session that never stops for the user fails.
    expect(s.falseCutOffRate).toBeLessThanOrEqual(0.5);
    expect(s.firstAudio.n).toBeGreaterThanOrEqual(1);
    expect(s.missedBargeInRate).toBe(0);
  });
});

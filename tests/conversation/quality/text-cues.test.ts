import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { runScenario } from './run.js';
import { heldOut2Scenarios, heldOutScenarios, type Scenario } from './scenarios.js';
import { type QualitySession, startQualitySession } from './session.js';

/**
 * TURN_DETECTION=text through Parley's real voice session: the transcript cues
 * (agent/voice/turn-cues.ts) hold a turn whose words so far end open, while a complete turn
 * still ends on the minimum delay. The minimum is set to 600 ms, under the 1.2 s pause, so
 * VAD-only endpointing at the same setting cuts that turn: only the cue can keep it open. An
 * ending that may be complete (a number) waits the middle delay, well apart from the maximum
 * here. The scenarios are from the held-out sets, which the rules were not written from except
 * the number-stem rule ("the ticket was thirty …", session 13). A behaviour check with loose
 * thresholds, not a timing check.
 */

const MIN_DELAY_MS = 600;
const UNSURE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 6_000;

let database: TestDatabase;
let session: QualitySession | undefined;

beforeAll(async () => {
  database = await openTestDatabase();
  session = await startQualitySession(database.db, 'parley-text', {
    env: {
      TURN_MIN_DELAY_MS: `${MIN_DELAY_MS}`,
      TURN_UNSURE_DELAY_MS: `${UNSURE_DELAY_MS}`,
      TURN_MAX_DELAY_MS: `${MAX_DELAY_MS}`,
    },
  });
}, 120_000);
afterAll(async () => {
  await session?.harness.close();
  await database.close();
});

function heldOut(id: string): Scenario {
  const scenario = [...heldOutScenarios(), ...heldOut2Scenarios()].find((s) => s.id === id);
  if (scenario === undefined) throw new Error(`no held-out scenario ${id}`);
  return scenario;
}

describe('transcript cues in a voice session (TURN_DETECTION=text)', () => {
  it('holds a 1.2 s pause after "but", longer than the minimum delay', async () => {
    if (session === undefined) throw new Error('no session');
    const o = await runScenario(
      database.db,
      session,
      heldOut('held-out pause 1200 ms after "but"'),
    );
    const said = JSON.stringify({ ...o, scenario: o.scenario.id });
    expect(o.error, said).toBeUndefined();
    expect(o.cutOff, said).toBe(false);
    expect(o.userTextOk, said).toBe(true);
  });

  it.each([
    'held-out 2 pause 900 ms after "pin"',
    'held-out 2 pause 600 ms after "price"',
    'held-out 2 pause 1200 ms after "list of places"',
  ])('holds a number or list read out in pieces: %s', async (id) => {
    if (session === undefined) throw new Error('no session');
    const o = await runScenario(database.db, session, heldOut(id));
    const said = JSON.stringify({ ...o, scenario: o.scenario.id });
    expect(o.error, said).toBeUndefined();
    expect(o.cutOff, said).toBe(false);
    expect(o.userTextOk, said).toBe(true);
  });

  it('ends a complete turn on the minimum delay, not the maximum', async () => {
    if (session === undefined) throw new Error('no session');
    const o = await runScenario(database.db, session, heldOut('held-out short "count me in"'));
    const said = JSON.stringify({ ...o, scenario: o.scenario.id });
    expect(o.error, said).toBeUndefined();
    expect(o.cutOff, said).toBe(false);
    // Loose: well under the maximum, whatever the machine's load.
    expect(o.endOfTurnMs, said).toBeLessThan(MAX_DELAY_MS - 500);
  });

  it('ends a complete number on the middle delay, not the minimum or the maximum', async () => {
    if (session === undefined) throw new Error('no session');
    const id = 'held-out 2 short "my room is three twelve"';
    const o = await runScenario(database.db, session, heldOut(id));
    const said = JSON.stringify({ ...o, scenario: o.scenario.id });
    expect(o.error, said).toBeUndefined();
    expect(o.cutOff, said).toBe(false);
    // Loose: 2 s from the last speech, far from both the 0.6 s minimum and the 6 s maximum.
    expect(o.endOfTurnMs, said).toBeGreaterThan(UNSURE_DELAY_MS - 500);
    expect(o.endOfTurnMs, said).toBeLessThan((UNSURE_DELAY_MS + MAX_DELAY_MS) / 2);
  });
});

import { voice } from '@livekit/agents';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness } from '../voice/harness.js';
import { sayWithPause, userTurns } from '../voice/pauses.js';
import { scriptedReplies } from '../voice/script.js';

/**
 * Turn-taking behaviour through Parley's real voice session: synthetic speech (flite `slt`)
 * at real-time pace, the end-of-turn model or VAD-only endpointing, emulated providers whose
 * speech-to-text returns what was said. Behaviour checks, not timing checks: which turns the
 * session committed, and what the end-of-turn model said, never how fast.
 */

const START = 'I would like to book a table for two and';
const REST = 'somewhere near the river';
const COMPLETE = 'Yes, that sounds good.';
/** A pause inside a turn that the model holds: shorter than its 3 s maximum. */
const PAUSE_MS = 1_500;
/** Longer than VAD-only endpointing (1,600 ms by default), still shorter than the model's 3 s. */
const VAD_PAUSE_MS = 2_000;

let database: TestDatabase;
let harness: VoiceHarness | undefined;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});
afterAll(async () => {
  await database.close();
});

interface Started {
  h: VoiceHarness;
  predictions: voice.EotPredictionEvent[];
}

/** A session in a new room whose speech-to-text hears `heard`, in upload order. */
async function start(turnDetection: 'model' | 'vad', heard: string[]): Promise<Started> {
  const { room } = await makeConversation(database.db);
  const h = await startVoiceHarness({
    db: database.db,
    chatRoomId: room.id,
    env: { TURN_DETECTION: turnDetection },
    input: { voice: 'slt' },
    openai: {
      reply: scriptedReplies({ river: 'The river terrace has a table for two.', sounds: 'Done.' }),
      transcribe: () => heard.shift() ?? '',
    },
  });
  harness = h;
  const predictions: voice.EotPredictionEvent[] = [];
  h.session.on(voice.AgentSessionEventTypes.EotPrediction, (event) => predictions.push(event));
  await h.playedOut(await h.nextReply(0));
  await h.idle();
  return { h, predictions };
}

describe('turn-taking with the end-of-turn model (TURN_DETECTION=model)', () => {
  it('does not end the turn in a pause after "and": one turn, one answer', async () => {
    const { h, predictions } = await start('model', [START, REST]);
    const said = await sayWithPause(h, START, REST, PAUSE_MS);
    const users = await userTurns(h, said.startedAt, 1);

    expect(h.openai.requests.transcriptions).toHaveLength(2);
    // The model was asked in the pause and said the turn was unlikely to be over.
    const first = predictions[0];
    expect(first, 'no end-of-turn prediction').toBeDefined();
    expect(first?.probability).toBeLessThan(first?.threshold ?? 0);
    expect(users, h.timeline.describe(said.startedAt)).toEqual([`${START} ${REST}`]);
  });

  it('ends a short complete turn on the model’s word, not after the long wait', async () => {
    const { h, predictions } = await start('model', [COMPLETE]);
    const said = await h.say(COMPLETE);
    const users = await userTurns(h, said.startedAt, 1);

    expect(users).toEqual([COMPLETE]);
    const last = predictions.at(-1);
    expect(last, 'no end-of-turn prediction').toBeDefined();
    // At or above the threshold the session waits `minDelay` (800 ms), not `maxDelay` (3 s).
    expect(last?.probability).toBeGreaterThanOrEqual(last?.threshold ?? 1);
  });
});

describe('the same pause with VAD-only endpointing (TURN_DETECTION=vad)', () => {
  it('ends the turn in the pause: two turns (what the model prevents)', async () => {
    const { h, predictions } = await start('vad', [START, REST]);
    const said = await sayWithPause(h, START, REST, VAD_PAUSE_MS);
    const users = await userTurns(h, said.startedAt, 2);

    expect(predictions).toEqual([]);
    expect(users).toEqual([START, REST]);
  });
});

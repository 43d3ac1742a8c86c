import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TURN_HANDLING } from '../../agent/voice/session.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness } from './harness.js';
import { sayWithPause, userTurns } from './pauses.js';
import { scriptedReplies } from './script.js';

const FIRST = 'tell me about';
const REST = 'the stars';
const STARS = 'Stars are huge balls of hot gas, far away from us.';
/** Longer than Silero's silence in Parley (350 ms; counted in samples, not wall clock). */
const PAUSE_MS = 450;
/**
 * The endpointing delay for the one-turn case. The delay is a wall-clock timer that resumed
 * speech must cancel, and Silero notices a soft onset ("the") late: on this shared machine
 * under load it noticed "the stars" 600 ms after it began, past Parley's 800 ms. A generous
 * delay keeps this test about the mechanism (split audio, one turn), not the machine's load.
 */
const PATIENT = { mode: 'fixed', minDelay: 2_000, maxDelay: 3_000 } as const;

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

/**
 * A session in a new room (its character greets first) whose speech-to-text hears the two
 * parts of the question, in upload order.
 */
async function start(overrides?: Parameters<typeof startVoiceHarness>[0]['overrides']) {
  const heard = [FIRST, REST];
  const { room } = await makeConversation(database.db);
  harness = await startVoiceHarness({
    db: database.db,
    chatRoomId: room.id,
    openai: {
      reply: scriptedReplies({ stars: STARS, about: 'About what?' }),
      transcribe: () => heard.shift() ?? '',
    },
    ...(overrides === undefined ? {} : { overrides }),
  });
  await harness.playedOut(await harness.nextReply(0));
  await harness.idle();
  return harness;
}

describe('a pause inside a turn', () => {
  it('is heard as two uploads but ends no turn: one question, one answer', async () => {
    const h = await start({ turnHandling: { ...TURN_HANDLING, endpointing: PATIENT } });
    const said = await sayWithPause(h, FIRST, REST, PAUSE_MS);
    const users = await userTurns(h, said.startedAt, 1);

    // Silero ended speech in the pause: the audio went to Whisper in two parts.
    expect(h.openai.requests.transcriptions).toHaveLength(2);
    expect(h.timeline.transcripts.map((t) => t.value)).toEqual([FIRST, REST]);
    // The endpointing delay outlasted the pause: the parts are one turn, answered once.
    expect(users, h.timeline.describe(said.startedAt)).toEqual([`${FIRST} ${REST}`]);
    expect(h.timeline.itemsAfter(said.startedAt, 'assistant').map((i) => i.text.trim())).toEqual([
      STARS,
    ]);
  });

  it('ends the turn when the endpointing delay is shorter than the pause (control)', async () => {
    const h = await start({
      turnHandling: { ...TURN_HANDLING, endpointing: { mode: 'fixed', minDelay: 100 } },
    });
    const said = await sayWithPause(h, FIRST, REST, PAUSE_MS);
    const users = await userTurns(h, said.startedAt, 2);

    expect(h.openai.requests.transcriptions).toHaveLength(2);
    expect(users).toEqual([FIRST, REST]);
  });
});

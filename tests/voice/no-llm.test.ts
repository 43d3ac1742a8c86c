import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM_MISSING_SPEECH } from '../../agent/providers/status.js';
import { listMessages } from '../../db/queries/messages.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness, waitFor } from './harness.js';

const QUESTION = 'how far away is the moon';

let database: TestDatabase;
let h: VoiceHarness;
let chatRoomId: number;

beforeAll(async () => {
  database = await openTestDatabase();
  chatRoomId = (await makeConversation(database.db)).room.id;
  h = await startVoiceHarness({
    db: database.db,
    chatRoomId,
    // `OPENAI_*=` means "not set": no LLM, and speech-to-text falls back to pocketsphinx.
    env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    stt: { kind: 'pocketsphinx', phrases: [QUESTION] },
  });
  await h.playedOut(await h.nextReply(0));
  await h.idle();
  // Generous: real-time audio on a loaded 2-core machine.
}, 180_000);
afterAll(async () => {
  await h?.close();
  await database.close();
});

describe('a voice call with no LLM configured', () => {
  it('says what to configure, calls no LLM, and stores no pretend answer', async () => {
    expect(h.models.llm).toBeUndefined();
    const captionsBefore = h.captions.captions.length;
    const said = await h.say(QUESTION);
    const spoken = await h.playedOut(await h.nextReply(said.endedAt));
    expect(spoken.peakRms).toBeGreaterThan(500);
    const captions = () => h.captions.captions.slice(captionsBefore);
    await waitFor(
      () => (captions().some((c) => c.flushed) ? true : undefined),
      () => `the notice's caption; got ${JSON.stringify(captions())}`,
    );
    await h.idle();
    expect(captions().map((c) => c.text.trim())).toEqual([LLM_MISSING_SPEECH]);
    expect(h.openai.requests.chatCompletions).toHaveLength(0);
    expect(h.openai.requests.transcriptions).toHaveLength(0);
    // Only the greeting is stored: neither the notice nor an apology counts as an answer.
    await h.brain.writer.flush();
    const stored = (await listMessages(database.db, { chatRoomId, limit: 50 })).messages;
    expect(stored.map((m) => m.sender)).toEqual(['character']);
    expect(stored[0]?.text).not.toBe(LLM_MISSING_SPEECH);
  }, 180_000);
});

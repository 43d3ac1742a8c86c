import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages } from '../../db/queries/messages.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness, waitFor } from './harness.js';
import { scriptedReplies, transcribeWithPocketsphinx } from './script.js';

const QUESTION = 'tell me about the moon';
const INTERRUPTION = 'what is the weather like';
const LONG_ANSWER =
  'The moon is the only natural satellite of the earth. It is about a quarter of the size ' +
  'of our planet. It has no air and no weather. Its surface is covered in dust and craters. ' +
  'The same side of the moon always faces us. People first walked on it in nineteen sixty ' +
  'nine. They brought back rocks that are still studied today.';
const GREETING = 'Hello! Ask me anything about the sky.';
const WEATHER = 'It is clear tonight, good for looking at the sky.';

let database: TestDatabase;
let h: VoiceHarness;
let chatRoomId: number;

beforeAll(async () => {
  database = await openTestDatabase();
  chatRoomId = (await makeConversation(database.db)).room.id;
  h = await startVoiceHarness({
    db: database.db,
    chatRoomId,
    openai: {
      reply: scriptedReplies({ moon: LONG_ANSWER, weather: WEATHER }),
      transcribe: transcribeWithPocketsphinx([QUESTION, INTERRUPTION]),
    },
  });
  await h.playedOut(await h.nextReply(0));
  await h.idle();
});
afterAll(async () => {
  await h?.close();
  await database.close();
});

const words = (text: string) => text.trim().split(/\s+/);

describe('barge-in', () => {
  it('user speech during a long reply stops it; the stored reply holds only what was spoken', async () => {
    const question = await h.say(QUESTION);
    const reply = await h.nextReply(question.endedAt);
    // Let a good part of the reply play before talking over it.
    await waitFor(() => (reply.playedMs > 2_500 ? true : undefined), 'the reply to play a while');
    const interruption = await h.say(INTERRUPTION);
    await h.playedOut(reply);
    const answer = await h.playedOut(await h.nextReply(interruption.endedAt));
    await h.idle();
    await h.brain.writer.flush();

    // Measured where a call's peer would take the packets: the product's output, its RTP sink.
    const stopped = h.output.stopOf(reply, interruption.startedAt);
    console.info(
      `[voice] barge-in: speech onset -> reply audio stopped: ${Math.round((stopped ?? Number.NaN) - interruption.startedAt)} ms ` +
        `(played ${Math.round(reply.playedMs)} ms)`,
    );
    // The reply was cut: paused or stopped after the user began (agents may pause it first and
    // resume it if no words follow in time), reported interrupted, and not one packet of it
    // left after it was cut, until the answer to the interruption.
    expect(stopped).toBeDefined();
    expect(reply.interrupted).toBe(true);
    expect(reply.lastPlayedAt).toBeGreaterThan(interruption.startedAt);
    expect(h.output.packetsBetween(reply.endedAt, answer.startedAt)).toBe(0);
    // The interruption was heard and answered.
    expect(h.timeline.transcripts.map((t) => t.value)).toEqual([QUESTION, INTERRUPTION]);
    expect(answer.peakRms).toBeGreaterThan(500);
    expect(answer.interrupted).toBe(false);

    const messages = (await listMessages(database.db, { chatRoomId, limit: 20 })).messages;
    // In the order things were said: the reply is cut within ~0.5 s of the user's first words,
    // while their turn ends only after they stop and the endpointing delay has passed.
    expect(messages.map((m) => [m.sender, m.text])).toEqual([
      ['character', GREETING],
      ['user', QUESTION],
      ['character', expect.any(String)],
      ['user', INTERRUPTION],
      ['character', WEATHER],
    ]);
    expect(messages.map((m) => m.interrupted)).toEqual([false, false, true, false, false]);
    const spoken = messages[2]?.text ?? '';
    console.info(`[voice] barge-in: stored "${spoken}"`);
    // Only what was said: a strict prefix of the scripted reply, a few words in, far from all.
    expect(LONG_ANSWER.startsWith(spoken)).toBe(true);
    expect(words(spoken).length).toBeGreaterThan(3);
    expect(words(spoken).length).toBeLessThan(words(LONG_ANSWER).length - 10);
  });
});

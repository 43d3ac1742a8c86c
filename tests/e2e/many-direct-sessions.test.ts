import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { messages } from '../../db/schema.js';
import { rms } from '../audio/measure.js';
import {
  createCharacter,
  type DirectTestApp,
  devSession,
  startDirectTestApp,
  until,
} from './direct-app.js';
import { EXCHANGES, phraseRecognizer } from './script.js';
import { type Caller, call, SERVER_LOOPBACK } from './werift-caller.js';

const SESSIONS = Number(process.env.E2E_SESSIONS ?? EXCHANGES.length);
const exchanges = EXCHANGES.slice(0, SESSIONS);

let parley: DirectTestApp;
beforeAll(async () => {
  // The callers stop sending after their question (a browser would send silence): so the call
  // must not end for want of packets while the reply is being prepared.
  parley = await startDirectTestApp({
    exchanges,
    peer: { ...SERVER_LOOPBACK, idleTimeoutMs: 120_000 },
  });
});
afterAll(async () => {
  await parley?.close();
});

async function storedMessages(chatRoomId: number) {
  const rows = await parley.database.db
    .select()
    .from(messages)
    .where(eq(messages.chatRoomId, chatRoomId))
    .orderBy(messages.seq);
  return rows.map((row) => ({ sender: row.sender, text: row.text, modality: row.modality }));
}

describe(`${SESSIONS} direct WebRTC calls at once in one process`, () => {
  it('each caller gets the answer to its own question, in its own room, and nothing else', async () => {
    // Each caller is a different user with a different character: ten rooms. The calls are
    // set up one after another (ten DTLS handshakes at once starve a loaded 2-core machine),
    // then all ten talk at the same time.
    const callers: Caller[] = [];
    for (const [i] of exchanges.entries()) {
      const { token } = await devSession(parley.baseUrl);
      const characterId = await createCharacter(parley.baseUrl, token, `Guide ${i}`);
      callers.push(await call(parley.baseUrl, token, `character_id=${characterId}`));
    }
    expect(parley.calls.size).toBe(SESSIONS);
    expect(new Set(callers.map((c) => c.chatRoomId)).size).toBe(SESSIONS);

    // All ten talk within ten seconds, each starting a second after the previous one, so
    // questions and replies overlap without ten VADs starting on the same frame.
    await Promise.all(
      callers.map(async (caller, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 1000));
        await caller.say(exchanges[i]?.question ?? '');
      }),
    );
    await until(
      'every caller has both final captions',
      () => callers.every((c) => c.finalCaptions().length >= 2),
      240_000,
    ).catch((error: unknown) => {
      // What each call got, so a failure says where the conversations stopped.
      const seen = callers.map((c, i) => ({ i, messages: c.browser.messages.slice(-4) }));
      const progress = { transcripts: parley.transcripts, seen };
      throw new Error(`${String(error)}\n${JSON.stringify(progress, null, 1)}`);
    });
    // A reply's final caption is sent once it has played out: the audio is all here.
    await Promise.all(callers.map((c) => c.hangUp()));
    await until('every call has ended', () => parley.calls.size === 0, 30_000);

    const answers = phraseRecognizer(exchanges.map((e) => e.answer));
    for (const [i, caller] of callers.entries()) {
      const exchange = exchanges[i];
      if (exchange === undefined) throw new Error('no exchange');
      const question = normalizePhrase(exchange.question);
      expect(caller.finalCaptions().map((c) => [c.role, c.text])).toEqual([
        ['user', question],
        ['character', exchange.answer],
      ]);
      const heard = caller.heard();
      expect(rms(heard.samples)).toBeGreaterThan(500);
      // What came back on this call's audio track is this question's answer, by ear.
      expect(await answers.pcm(heard)).toBe(normalizePhrase(exchange.answer));
      expect(await storedMessages(caller.chatRoomId)).toEqual([
        { sender: 'user', text: question, modality: 'voice' },
        { sender: 'character', text: exchange.answer, modality: 'voice' },
      ]);
    }
    expect(parley.transcripts.toSorted()).toEqual(
      exchanges.map((e) => normalizePhrase(e.question)).toSorted(),
    );
  }, 300_000);
});

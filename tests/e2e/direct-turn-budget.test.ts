import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { listMessages } from '../../db/queries/messages.js';
import {
  createCharacter,
  type DirectTestApp,
  devSession,
  startDirectTestApp,
  until,
} from './direct-app.js';
import { EXCHANGES } from './script.js';
import { type Caller, call, SERVER_LOOPBACK } from './werift-caller.js';

/** Spoken turns take from the same per-user budget as typed ones: one a minute here. */
const exchanges = EXCHANGES.slice(0, 2);
let parley: DirectTestApp;
let caller: Caller | undefined;

beforeAll(async () => {
  parley = await startDirectTestApp({
    exchanges,
    peer: SERVER_LOOPBACK,
    env: { RATE_LIMIT_PER_MINUTE: '1' },
  });
});
afterAll(async () => {
  await caller?.browser.close();
  await parley?.close();
});

const ofType = (type: string) => (message: unknown) => (message as { type: string }).type === type;

describe('the turn budget in a direct call', () => {
  it('answers the first spoken turn, then refuses the next with a message and no reply', async () => {
    const { token } = await devSession(parley.baseUrl);
    const characterId = await createCharacter(parley.baseUrl, token, 'Counted');
    caller = await call(parley.baseUrl, token, `character_id=${characterId}`);
    const current = caller;

    await current.say(exchanges[0]?.question ?? '');
    await until('the first answer', () => current.finalCaptions().length >= 2, 120_000);
    await current.say(exchanges[1]?.question ?? '');
    await until(
      'the second turn was refused',
      () => current.browser.messages.some(ofType('error')),
      120_000,
    );
    expect(current.browser.messages.find(ofType('error'))).toMatchObject({
      code: 'REQUEST.RATE_LIMITED',
    });
    const characterCaptions = current.finalCaptions().filter((c) => c.role === 'character');
    expect(characterCaptions.map((c) => c.text)).toEqual([exchanges[0]?.answer]);
    expect(parley.transcripts.map(normalizePhrase)).toContain(
      normalizePhrase(exchanges[1]?.question ?? ''),
    );
    await current.hangUp();
    // Stored once the call has ended: the refused turn got no reply.
    const stored = await listMessages(parley.database.db, {
      chatRoomId: current.chatRoomId,
      limit: 10,
    });
    expect(stored.messages.filter((m) => m.sender === 'character')).toHaveLength(1);
  }, 300_000);
});

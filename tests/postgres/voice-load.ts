import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import { type Caller, call } from '../e2e/werift-caller.js';
import type { ApiProcess } from './api-process.js';

const RATE = 48_000;

export interface VoiceLoadOptions {
  /** One call to each: the direct path of every API process carries a call. */
  apis: ApiProcess[];
  /** One user per call (a user may hold only a few calls at once). */
  tokens: string[];
  characterId: string;
  /** What each caller says, again and again. */
  sentence: string;
  /** No caller speaks more than this many turns: the load ends by itself. */
  maxTurns: number;
}

export interface VoiceLoadReport {
  /** Per call: its chat room and the final captions it received (role and text), in order. */
  calls: { chatRoomId: number; captions: { role: string; text: string }[] }[];
}

/**
 * Voice calls on the direct WebRTC path, one per API process: werift callers that speak a
 * sentence, then silence long enough for the turn to end and the reply to play, and again.
 * They never stop sending audio between turns (a browser does not either), so the server's
 * idle check keeps the call up.
 */
export async function startVoiceLoad(options: VoiceLoadOptions) {
  const speech = resample(await synthesizeSpeech(options.sentence), RATE);
  // A second of silence, the sentence, nine seconds of silence: past the 1.6 s endpointing
  // and the spoken reply (~3 s) even on a loaded machine, so turns do not talk over replies.
  const turn = new Int16Array(RATE + speech.length + RATE * 9);
  turn.set(speech, RATE);
  const callers: Caller[] = [];
  // One after another: DTLS handshakes at once starve a loaded 2-core machine.
  for (const [i, api] of options.apis.entries()) {
    callers.push(
      await call(api.base, options.tokens[i] ?? '', `character_id=${options.characterId}`),
    );
  }
  let stopping = false;
  const loops = callers.map(async (caller) => {
    for (let t = 0; t < options.maxTurns && !stopping; t++) await caller.browser.speak(turn);
  });
  return {
    /** Ends each call after the turn in progress, as the page does (DELETE, then close). */
    async stop(): Promise<VoiceLoadReport> {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(callers.map((caller) => caller.hangUp()));
      return {
        calls: callers.map((caller) => ({
          chatRoomId: caller.chatRoomId,
          captions: caller.finalCaptions().map((c) => ({ role: c.role, text: c.text })),
        })),
      };
    },
  };
}

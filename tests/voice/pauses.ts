import { AudioFrame } from '@livekit/rtc-node';
import { type Utterance, type VoiceHarness, waitFor } from './harness.js';

/** Says `first`, `pauseMs` of silence, then `rest`, as one utterance (one turn with a pause). */
export async function sayWithPause(
  h: VoiceHarness,
  first: string,
  rest: string,
  pauseMs: number,
): Promise<Utterance> {
  const perFrame = Math.round((h.input.sampleRate * h.input.frameMs) / 1000);
  const silence = Array.from(
    { length: pauseMs / h.input.frameMs },
    () => new AudioFrame(new Int16Array(perFrame), h.input.sampleRate, 1, perFrame),
  );
  const frames = [...(await h.input.prepare(first)), ...silence, ...(await h.input.prepare(rest))];
  return h.input.say(`${first} ${rest}`, { frames });
}

/** The user turns committed since `since`, once `count` are in and the answer has played. */
export async function userTurns(h: VoiceHarness, since: number, count: number): Promise<string[]> {
  const users = () => h.timeline.itemsAfter(since, 'user').map((i) => i.text);
  await waitFor(
    () => (users().length >= count ? true : undefined),
    () => `${count} user turns; the session did:\n${h.timeline.describe(since)}`,
  );
  await h.playedOut(await h.nextReply(since));
  await h.idle();
  return users();
}

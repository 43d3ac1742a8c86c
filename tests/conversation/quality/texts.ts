import type { PlayedSegment } from '../../voice/harness.js';
import type { Observation } from './run.js';
import { spokenText } from './scenarios.js';

/** A message as stored (Parley: the database; a bare session: its chat items). */
export interface StoredMessage {
  sender: string;
  text: string;
  interrupted: boolean;
}

/** Lower case, words only: punctuation and spacing are the STT's and LLM's business. */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' -]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const words = (text: string) => (normalize(text) === '' ? [] : normalize(text).split(' '));

/**
 * The stored user text must be what was said, in order, nothing lost or doubled (however
 * many messages a cut-off made of it). A backchannel may be stored or not; a cough has no words.
 */
export function judgeUserText(o: Observation, stored: readonly StoredMessage[]): void {
  const got = normalize(
    stored
      .filter((m) => m.sender === 'user')
      .map((m) => m.text)
      .join(' '),
  );
  const turn = normalize(spokenText(o.scenario.turn).join(' '));
  const all = normalize(spokenText([...o.scenario.turn, ...(o.scenario.overlap ?? [])]).join(' '));
  const accepted = o.scenario.category === 'backchannel' ? [turn, all] : [all];
  o.userTextOk = accepted.includes(got);
  if (!o.userTextOk) o.notes.push(`user text "${got}", said "${all}"`);
}

/**
 * Every stored reply must be what the user heard: a reply that played to the end in full; a
 * cut one as a prefix of its text holding about as many words as its audio played (within
 * three words or a fifth: the session estimates word timing, it does not know it).
 */
export function judgeReplies(
  o: Observation,
  stored: readonly StoredMessage[],
  segments: readonly PlayedSegment[],
  replyMs: ReadonlyMap<string, number>,
): void {
  const replies = stored.filter((m) => m.sender === 'character');
  const cut = segments.filter((s) => s.interrupted);
  let cutIndex = 0;
  const problems: string[] = [];
  let prefixesOk = true;
  for (const reply of replies) {
    const texts = [...replyMs.keys()];
    if (!reply.interrupted) {
      if (!texts.some((t) => normalize(t) === normalize(reply.text))) {
        problems.push(`whole reply "${reply.text}" is not a reply the LLM gave`);
      }
      continue;
    }
    const segment = cut[cutIndex++];
    const played = segment?.playedMs ?? 0;
    const prefix = texts.some((text) =>
      isCutOf(
        words(reply.text),
        words(text),
        played / (replyMs.get(text) ?? Number.POSITIVE_INFINITY),
      ),
    );
    if (!prefix) problems.push(`cut reply "${reply.text}" is not a cut of a reply the LLM gave`);
    prefixesOk &&= prefix;
    const fits = texts.some((text) => {
      const full = words(text);
      const got = words(reply.text);
      if (got.some((word, i) => full[i] !== word)) return false;
      const expected = (full.length * played) / (replyMs.get(text) ?? Number.POSITIVE_INFINITY);
      return Math.abs(got.length - expected) <= Math.max(3, expected / 5);
    });
    if (!fits) problems.push(`cut reply "${reply.text}" after ${Math.round(played)} ms played`);
  }
  o.replyTextOk = problems.length === 0;
  o.replyStructureOk = prefixesOk && problems.every((p) => !p.startsWith('whole reply'));
  o.notes.push(...problems);
}

/**
 * A cut reply is the start of its text: shorter, or all of it when the cut came as its last
 * words played (at most {@link LAST_WORDS} of them still due by the audio played, a playout
 * position, not a wall-clock time; a two-word reply may be cut in its last word).
 */
const isCutOf = (got: readonly string[], full: readonly string[], playedShare: number) =>
  got.every((word, i) => full[i] === word) &&
  (got.length < full.length ||
    (got.length === full.length && full.length * (1 - playedShare) <= LAST_WORDS));

const LAST_WORDS = 2;

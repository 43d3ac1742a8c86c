import { type AudioBuffer, type stt, voice } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import { ForwardingSTT } from './forwarding-stt.js';

/**
 * What English speakers say over someone else's speech to show they are listening, not to
 * take the turn (backchannels), and the hesitations and thanks speech-to-text makes of a
 * murmur. Anything else in an utterance ("no", "wait", "stop", a question) makes it a real
 * interruption. Other languages' backchannels are not listed: they interrupt, as before.
 */
const BACKCHANNEL_PHRASES = [
  'uh huh',
  'mm hmm',
  'mhm',
  'mm',
  'mmm',
  'hmm',
  'hm',
  'uh',
  'um',
  'ah',
  'oh',
  'aha',
  'ooh',
  'wow',
  'yeah',
  'yea',
  'yes',
  'yep',
  'yup',
  'right',
  'okay',
  'ok',
  'alright',
  'all right',
  'sure',
  'i see',
  'got it',
  'gotcha',
  'cool',
  'nice',
  'great',
  'really',
  'interesting',
  'true',
  'exactly',
  'indeed',
  'of course',
  'go on',
  'makes sense',
  'thanks',
  'thank you',
].map((phrase) => phrase.split(' '));

/** Longer than this is not an acknowledgement any more, whatever its words. */
const MAX_BACKCHANNEL_WORDS = 6;

/** Lower-case words; a hyphen separates words ("uh-huh" is "uh huh"), punctuation goes. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z']+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '');
}

/**
 * Whether `text` is only backchannels ("uh-huh", "yeah, right", "okay, got it"): at least one
 * word, at most {@link MAX_BACKCHANNEL_WORDS}, every one of them inside a listed phrase.
 */
export function isBackchannel(text: string): boolean {
  const said = words(text);
  if (said.length === 0 || said.length > MAX_BACKCHANNEL_WORDS) return false;
  let at = 0;
  while (at < said.length) {
    const phrase = BACKCHANNEL_PHRASES.filter((p) => p.every((w, i) => said[at + i] === w)).sort(
      (a, b) => b.length - a.length,
    )[0];
    if (phrase === undefined) return false;
    at += phrase.length;
  }
  return true;
}

/**
 * Keeps the character's reply going through a backchannel. Agents pauses a reply as soon as
 * the VAD hears the user (barge-in in ~500 ms) and resumes it when no words follow
 * (`resumeFalseInterruption`), but any final transcript, "uh-huh" included, interrupts the
 * paused reply and commits a user turn that the character then answers. This gate sits in
 * front of the session's speech-to-text: a transcript that is only backchannels, of speech
 * that began while a reply was being heard (playing, or paused for this very speech), comes
 * back as silence while that reply is still under way. To the session the user made a sound
 * without words, so the reply resumes where it paused and no user message is committed,
 * stored, or sent to the LLM; the reply is stored whole, as played. The same words said
 * when the character is silent ("yes" to a question) are a turn as usual.
 */
export class BackchannelGate {
  /** Replies that exist (created, not done). */
  readonly #live = new Set<voice.SpeechHandle>();
  /** Of those, the ones the user has heard: the agent was speaking while they were live. */
  readonly #heard = new Set<voice.SpeechHandle>();
  #session: voice.AgentSession | undefined;
  #userStartedOverReply = false;
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  /**
   * The STT the session gets. A streaming STT is returned unchanged (Parley has none: its
   * transcripts would need filtering in the stream).
   */
  wrap(inner: stt.STT): stt.STT {
    return inner.capabilities.streaming ? inner : new BackchannelSTT(inner, this);
  }

  /** Follows `session`'s replies and the user's speech; call before the session starts. */
  watch(session: voice.AgentSession): void {
    this.#session = session;
    session.on(voice.AgentSessionEventTypes.SpeechCreated, ({ speechHandle }) => {
      this.#live.add(speechHandle);
      speechHandle.addDoneCallback((handle) => {
        this.#live.delete(handle);
        this.#heard.delete(handle);
      });
    });
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, ({ newState }) => {
      if (newState !== 'speaking') return;
      for (const handle of this.#live) this.#heard.add(handle);
    });
    session.on(voice.AgentSessionEventTypes.UserStateChanged, ({ newState }) => {
      if (newState === 'speaking') this.#userStartedOverReply = this.#replyUnderway();
    });
  }

  /** Whether a final transcript arriving now is to be dropped as a backchannel. */
  drops(transcript: string): boolean {
    if (!this.#userStartedOverReply || !this.#replyUnderway() || !isBackchannel(transcript)) {
      return false;
    }
    this.#logger?.debug({ words: words(transcript).length }, 'backchannel over a reply ignored');
    return true;
  }

  /** A reply is playing, or was heard and is paused: not done and not interrupted. */
  #replyUnderway(): boolean {
    if (this.#session?.agentState === 'speaking') return true;
    for (const handle of this.#heard) if (!handle.interrupted) return true;
    return false;
  }
}

/** A non-streaming STT whose backchannels over a reply are heard as silence. */
class BackchannelSTT extends ForwardingSTT {
  readonly #gate: BackchannelGate;

  constructor(inner: stt.STT, gate: BackchannelGate) {
    super(inner);
    this.#gate = gate;
  }

  protected override async _recognize(
    buffer: AudioBuffer,
    abortSignal?: AbortSignal,
  ): Promise<stt.SpeechEvent> {
    const event = await this.inner.recognize(buffer, abortSignal);
    const [first, ...rest] = event.alternatives ?? [];
    if (first === undefined || !this.#gate.drops(first.text)) return event;
    // The stream adapter passes on no event for an empty transcript.
    return { ...event, alternatives: [{ ...first, text: '' }, ...rest] };
  }
}

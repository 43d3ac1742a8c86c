import { voice } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import { APOLOGY } from '../conversation/prompt.js';
import { UtteranceLostError } from './reported-stt.js';
import { trackUnfinishedSpeeches } from './unfinished-speeches.js';

export interface ApologyParams {
  session: voice.AgentSession;
  chatRoomId: number;
  logger: Logger;
}

/**
 * Answers a failed turn (the user's words lost by speech-to-text, the LLM or the speech
 * synthesis giving up) with a short apology instead of silence, said after whatever the
 * failed reply managed to say.
 *
 * The apology waits for the reply that failed, because saying it at once loses it: with
 * preemptive generation the LLM and the speech synthesis start on the final transcript,
 * before the user's turn ends (endpointing waits 1,600 ms from the last speech, speech-to-text
 * often answers sooner). A provider failing in that window was reported while the reply was
 * not yet scheduled; an apology said then started playing at once, and the end of the turn
 * a moment later interrupted it as the current speech ("speech interrupted, new user turn
 * detected") and played the failed reply in its place. The user heard "Sorry," and then the
 * half reply. So the apology follows the failed reply, and is dropped if that reply is
 * discarded (the user went on talking and a new reply replaces it) or interrupted by the user:
 * then the user's new turn gets its own answer.
 */
export function apologiseForFailedTurns(params: ApologyParams): void {
  const { session, chatRoomId, logger } = params;
  const unfinished = trackUnfinishedSpeeches(session);
  let closed = false;
  session.on(voice.AgentSessionEventTypes.Close, () => {
    closed = true;
  });
  /** Set from the failure until the apology is said or dropped: one apology per failure. */
  let owed = false;
  let apology: voice.SpeechHandle | undefined;

  const apologiseAfter = async (failed: voice.SpeechHandle | undefined) => {
    if (failed !== undefined) await failed.waitIfNotInterrupted([failed.waitForPlayout()]);
    if (closed) return;
    if (failed?.interrupted) {
      logger.info({ chatRoomId }, 'Failed reply was replaced or interrupted; no apology');
      return;
    }
    apology = session.say(APOLOGY);
  };

  session.on(voice.AgentSessionEventTypes.Error, ({ error }) => {
    if (!leavesUserUnanswered(error) || owed) return;
    // Speech failing while the apology itself is said must not queue another.
    if (apology !== undefined && !apology.done()) return;
    logger.error({ err: error.error, kind: error.type, chatRoomId }, 'Turn failed; apologising');
    owed = true;
    apologiseAfter(unfinished.newest())
      .catch((err: unknown) => logger.warn({ err, chatRoomId }, 'Session is closing; no apology'))
      .finally(() => {
        owed = false;
      });
  });
}

type SessionError = voice.ErrorEvent['error'];

/**
 * Failures after which the user would hear nothing: the LLM or the speech synthesis gave up
 * for good, or the user's words were lost before they became a turn.
 */
function leavesUserUnanswered(
  error: SessionError,
): error is Extract<SessionError, { type: 'llm_error' | 'tts_error' | 'stt_error' }> {
  if (error.type === 'stt_error') return error.error instanceof UtteranceLostError;
  if (error.type === 'llm_error' || error.type === 'tts_error') return !error.recoverable;
  return false;
}

import { llm, voice } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import type { TurnMetrics } from '../../db/schema.js';
import { UtteranceLostError } from '../voice/reported-stt.js';
import { GREETING_KEY } from './message-keys.js';
import { APOLOGY } from './prompt.js';
import type { TranscriptWriter } from './transcript-writer.js';

export interface VoiceConversationParams {
  session: voice.AgentSession;
  writer: TranscriptWriter;
  chatRoomId: number;
  logger: Logger;
  /** The greeting the agent says on entering, if it says one; stored once per room. */
  greeting?: string | undefined;
}

const seconds = (value: number | undefined) =>
  value === undefined ? undefined : Math.round(value * 10_000) / 10;

/** The session's per-turn metrics (seconds) as stored on a message (milliseconds). */
export function toTurnMetrics(report: llm.MetricsReport | undefined): TurnMetrics | null {
  if (report === undefined) return null;
  const metrics: TurnMetrics = {};
  const pairs: [keyof TurnMetrics, number | undefined][] = [
    ['endOfUtteranceDelayMs', report.endOfTurnDelay],
    ['transcriptionDelayMs', report.transcriptionDelay],
    ['llmTtftMs', report.llmNodeTtft],
    ['ttsTtfbMs', report.ttsNodeTtfb],
    ['e2eLatencyMs', report.e2eLatency],
  ];
  for (const [key, value] of pairs) {
    const ms = seconds(value);
    if (ms !== undefined) metrics[key] = ms;
  }
  return Object.keys(metrics).length > 0 ? metrics : null;
}

/**
 * Stores every committed user and character message of a voice session, exactly once (the
 * chat item id is the idempotency key), with the interrupted flag and the text actually
 * spoken; and answers a failed turn (words lost by speech-to-text, the LLM or speech synthesis
 * giving up) with a short apology instead of silence.
 */
export function attachVoiceConversation(params: VoiceConversationParams): void {
  const { session, writer, chatRoomId, logger } = params;
  let greetingPending = params.greeting;

  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
    if (!(item instanceof llm.ChatMessage)) return;
    if (item.role !== 'user' && item.role !== 'assistant') return;
    const text = (item.textContent ?? '').trim();
    if (text === '') return;
    // The chat item id: a server key (`item_…`), never in the clients' `c:` namespace.
    let clientId = item.id;
    if (
      item.role === 'assistant' &&
      greetingPending !== undefined &&
      greetingPending.startsWith(text)
    ) {
      clientId = GREETING_KEY;
      greetingPending = undefined;
    }
    writer.enqueue({
      chatRoomId,
      sender: item.role === 'user' ? 'user' : 'character',
      text,
      modality: 'voice',
      interrupted: item.interrupted,
      metrics: toTurnMetrics(item.metrics),
      clientId,
    });
  });

  let apology: voice.SpeechHandle | undefined;
  session.on(voice.AgentSessionEventTypes.Error, ({ error }) => {
    if (!leavesUserUnanswered(error)) return;
    // Speech failing while the apology itself is said must not queue another.
    if (apology !== undefined && !apology.done()) return;
    logger.error({ err: error.error, kind: error.type, chatRoomId }, 'Turn failed; apologising');
    try {
      apology = session.say(APOLOGY);
    } catch (err) {
      logger.warn({ err, chatRoomId }, 'Session is closing; no apology');
    }
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

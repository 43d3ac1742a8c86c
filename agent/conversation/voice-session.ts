/**
 * What a voice session's commits need before they are stored (`CharacterConversation.listen`):
 * the session's metrics in the stored units, and the order of a reply and the words that
 * talked over it.
 */
import { type llm, voice } from '@livekit/agents';
import type { TurnMetrics } from '../../db/schema.js';
import { trackUnfinishedSpeeches } from '../voice/unfinished-speeches.js';

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

/** Longest a user message waits for the reply it talked over; playout always ends sooner. */
const TALKED_OVER_WAIT_MS = 30_000;

/**
 * A user who starts talking while the character speaks began after that reply did, so the
 * reply is stored first. The framework adds the user's message when their turn ends, and only
 * then cuts the reply it had paused at their first words and adds what was played of it; so a
 * user message that talked over a reply waits until that reply's speech is done (bounded).
 */
export function orderAfterTalkedOverReply(
  session: voice.AgentSession,
): (store: () => void) => void {
  const unfinished = trackUnfinishedSpeeches(session);
  let talkedOver: voice.SpeechHandle | undefined;
  session.on(voice.AgentSessionEventTypes.UserStateChanged, ({ newState }) => {
    if (newState === 'speaking' && session.agentState === 'speaking') {
      talkedOver = unfinished.newest();
    }
  });
  return (store) => {
    const reply = talkedOver;
    talkedOver = undefined;
    if (reply === undefined || reply.done()) return store();
    let stored = false;
    const storeOnce = () => {
      if (stored) return;
      stored = true;
      store();
    };
    reply.addDoneCallback(storeOnce);
    setTimeout(storeOnce, TALKED_OVER_WAIT_MS).unref();
  };
}

import { llm, voice } from '@livekit/agents';
import type { TurnMetrics } from '../../db/schema.js';
import { trackUnfinishedSpeeches } from '../voice/unfinished-speeches.js';
import { GREETING_KEY } from './message-keys.js';
import type { TranscriptWriter } from './transcript-writer.js';

export interface VoiceConversationParams {
  session: voice.AgentSession;
  writer: TranscriptWriter;
  chatRoomId: number;
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
 * spoken, in the order the words began.
 */
export function attachVoiceConversation(params: VoiceConversationParams): void {
  const { session, writer, chatRoomId } = params;
  let greetingPending = params.greeting;
  const afterTalkedOverReply = orderAfterTalkedOverReply(session);

  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
    if (!(item instanceof llm.ChatMessage)) return;
    if (item.role !== 'user' && item.role !== 'assistant') return;
    const text = (item.textContent ?? '').trim();
    if (text === '') return;
    // The chat item id: a server key (`item_…`), never in the clients' `c:` namespace.
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
    const entry = {
      chatRoomId,
      sender: item.role === 'user' ? ('user' as const) : ('character' as const),
      text,
      modality: 'voice' as const,
      interrupted: item.interrupted,
      metrics: toTurnMetrics(item.metrics),
      clientId,
    };
    if (item.role === 'user') afterTalkedOverReply(() => writer.enqueue(entry));
    else writer.enqueue(entry);
  });
}

/** Longest a user message waits for the reply it talked over; playout always ends sooner. */
const TALKED_OVER_WAIT_MS = 30_000;

/**
 * A user who starts talking while the character speaks began after that reply did, so the
 * reply is stored first. The framework adds the user's message when their turn ends, and only
 * then cuts the reply it had paused at their first words and adds what was played of it; so a
 * user message that talked over a reply waits until that reply's speech is done (bounded).
 */
function orderAfterTalkedOverReply(session: voice.AgentSession): (store: () => void) => void {
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

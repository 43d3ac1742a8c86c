import { llm, voice } from '@livekit/agents';
import type { TurnMetrics } from '../../db/schema.js';
import { GREETING_CLIENT_ID } from './text-turn.js';
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
 * spoken.
 */
export function attachVoiceConversation(params: VoiceConversationParams): void {
  const { session, writer, chatRoomId } = params;
  let greetingPending = params.greeting;

  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
    if (!(item instanceof llm.ChatMessage)) return;
    if (item.role !== 'user' && item.role !== 'assistant') return;
    const text = (item.textContent ?? '').trim();
    if (text === '') return;
    let clientId = item.id;
    if (
      item.role === 'assistant' &&
      greetingPending !== undefined &&
      greetingPending.startsWith(text)
    ) {
      clientId = GREETING_CLIENT_ID;
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
}

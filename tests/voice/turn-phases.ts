import type { metrics } from '@livekit/agents';
import type { PlayedSegment } from './playout-recorder.js';
import type { SessionTimeline, Stamped } from './session-timeline.js';
import type { Span } from './timed-retriever.js';

/**
 * Where one voice turn's time went, each moment in milliseconds after the end of the user's
 * speech (NaN when the session did not report it). In the order they should happen.
 */
export interface TurnPhases {
  /** Silero declared the end of speech (the user state went back to listening). */
  vadEnd: number;
  /** The final transcript arrived. */
  transcript: number;
  /** The turn was committed: the session reported its end-of-utterance metrics. */
  endOfTurn: number;
  /** How long the knowledge retrieval before that LLM request took (NaN: none ran). */
  retrievalMs: number;
  /** The reply that played: its LLM request started (as the LLM plugin timed it). */
  llmRequest: number;
  /** ... and its first token arrived. */
  llmFirstToken: number;
  /** Its speech synthesis started, and its first audio arrived. */
  ttsRequest: number;
  ttsFirstByte: number;
  /** The first reply frame reached the loudspeaker. */
  firstFrame: number;
  /** LLM requests the emulator received for this turn: more than one means a generation was redone. */
  llmRequests: number;
  /** Replies the session began for this turn (preemptive ones included). */
  speeches: number;
}

/** Start and first-output moments of an LLM or TTS request, from its metrics report. */
interface Timed {
  start: number;
  first: number;
  cancelled: boolean;
}

/** Metrics carry `Date.now()` times; the report's own stamp puts them on the harness's clock. */
function timed(stamped: Stamped<metrics.AgentMetrics>): Timed | undefined {
  const m = stamped.value;
  if (m.type === 'llm_metrics') {
    const start = stamped.at - m.durationMs;
    return { start, first: start + m.ttftMs, cancelled: m.cancelled };
  }
  if (m.type === 'tts_metrics') {
    const start = stamped.at - m.durationMs;
    return { start, first: start + m.ttfbMs, cancelled: m.cancelled };
  }
  return undefined;
}

function requestsOf(
  timeline: SessionTimeline,
  type: 'llm_metrics' | 'tts_metrics',
  from: number,
  to: number,
): Timed[] {
  return timeline.metrics
    .filter((s) => s.value.type === type)
    .map(timed)
    .filter((t): t is Timed => t !== undefined && t.start >= from && t.start <= to)
    .sort((a, b) => a.start - b.start);
}

const firstAfter = (stamps: number[], from: number) =>
  stamps.filter((at) => at >= from).sort((a, b) => a - b)[0] ?? Number.NaN;

/**
 * The phases of the turn whose speech ended at `endedAt` and whose reply is `reply`, read from
 * the session's timeline once the reply has played (its metrics are reported by then).
 * `llmArrivals` are the times the LLM emulator received chat requests.
 */
export function turnPhases(
  timeline: SessionTimeline,
  endedAt: number,
  reply: PlayedSegment,
  llmArrivals: readonly number[],
  retrievals: readonly Span[] = [],
): TurnPhases {
  const to = reply.firstFrameAt;
  const llm = requestsOf(timeline, 'llm_metrics', endedAt, to);
  const played = llm.filter((r) => !r.cancelled).at(-1) ?? llm.at(-1);
  const tts = requestsOf(timeline, 'tts_metrics', played?.start ?? endedAt, to);
  const spoken = tts.find((r) => !r.cancelled) ?? tts[0];
  const since = (at: number | undefined) => (at === undefined ? Number.NaN : at - endedAt);
  const listening = timeline.userStates.filter((s) => s.value === 'listening').map((s) => s.at);
  const eou = timeline.metrics.filter((s) => s.value.type === 'eou_metrics').map((s) => s.at);
  return {
    vadEnd: since(firstAfter(listening, endedAt)),
    transcript: since(
      firstAfter(
        timeline.transcripts.map((t) => t.at),
        endedAt,
      ),
    ),
    endOfTurn: since(firstAfter(eou, endedAt)),
    retrievalMs: retrievalBefore(retrievals, endedAt, played?.start ?? to),
    llmRequest: since(played?.start),
    llmFirstToken: since(played?.first),
    ttsRequest: since(spoken?.start),
    ttsFirstByte: since(spoken?.first),
    firstFrame: since(to),
    llmRequests: llmArrivals.filter((at) => at >= endedAt && at <= to).length,
    speeches: timeline.speeches.filter((s) => s.at >= endedAt && s.at <= to).length,
  };
}

/** The last retrieval that ended between `from` and `until`: the one its LLM request waited for. */
function retrievalBefore(spans: readonly Span[], from: number, until: number): number {
  const last = spans.filter((s) => s.start >= from && s.end <= until + 1).at(-1);
  return last === undefined ? Number.NaN : last.end - last.start;
}

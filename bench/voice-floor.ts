/**
 * The floor of a voice turn: the earliest its first reply frame could come after the end of
 * the user's speech, given the session's own settings and the providers' fixed latencies, if
 * nothing else took any time. Read from `@livekit/agents` 1.9's source (audio_recognition.ts,
 * agent_activity.ts), with VAD turn detection and a non-streaming STT behind VAD:
 * - the STT request leaves when Silero declares the end of speech, after its silence;
 * - the endpointing delay counts from the last speech (`lastSpeakingTime`), so it overlaps
 *   that silence: the turn commits at max(silence + STT, minDelay);
 * - preemptive generation starts the LLM on the final transcript, before the commit;
 * - with preemptive speech synthesis the TTS starts on the first token, else once the turn is
 *   committed; audio plays only after the commit.
 */

/** What one side's floor depends on, as its session reported it. */
export interface FloorInputs {
  vadSilenceMs: number;
  minDelayMs: number;
  preemptiveLlm: boolean;
  preemptiveTts: boolean;
  sttMs: number;
  llmMs: number;
  ttsMs: number;
}

export interface Floor {
  ms: number;
  /** How it adds up, for the table. */
  formula: string;
}

/** The floor for `f`, and how it adds up. */
export function turnFloor(f: FloorInputs): Floor {
  const transcript = f.vadSilenceMs + f.sttMs;
  const committed = Math.max(transcript, f.minDelayMs);
  const llmStart = f.preemptiveLlm ? transcript : committed;
  const firstToken = llmStart + f.llmMs;
  const ms = f.preemptiveTts
    ? Math.max(committed, firstToken + f.ttsMs)
    : Math.max(committed, firstToken) + f.ttsMs;
  const formula =
    `silence ${f.vadSilenceMs} + STT ${f.sttMs} + LLM ${f.llmMs} + TTS ${f.ttsMs}, ` +
    `endpointing ${f.minDelayMs} from last speech` +
    `${f.preemptiveLlm ? ', preemptive LLM' : ''}${f.preemptiveTts ? ' and TTS' : ''}`;
  return { ms, formula };
}

import type { VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';

/**
 * Parley's Silero settings. Silero's silence (default 550 ms) decides when an utterance is
 * sent to speech-to-text, and so when preemptive generation can start: every millisecond of
 * it is a millisecond of reply latency. 350 ms sends the utterance 200 ms sooner. It does not
 * decide when the user's turn ends: the endpointing delay in `TURN_HANDLING` (./session.ts)
 * does, counted from the last speech. A longer pause within a turn only sends the speech to
 * speech-to-text in parts (their transcripts are joined into one turn) and the preemptive
 * reply to the first part is replaced when the rest arrives.
 */
export const SILERO_OPTIONS = { minSilenceDuration: 350 } as const;

/** Silero with Parley's settings; load once per process (the worker's prewarm) and share. */
export function loadVoiceVad(): Promise<VAD> {
  return silero.VAD.load(SILERO_OPTIONS);
}

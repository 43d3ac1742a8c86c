import type { VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';

/**
 * Parley's Silero settings. Silero's silence (default 550 ms) decides when the utterance is
 * sent to speech-to-text, and so when preemptive generation can start: every millisecond of
 * it is a millisecond of reply latency. 350 ms sends the utterance 200 ms sooner. It does not
 * decide when the user's turn ends: that is the endpointing delay in `TURN_HANDLING` (./session.ts),
 * counted from the last speech, so a pause shorter than that still cannot cut the user off.
 * A longer pause only makes the utterance go to speech-to-text in two parts (the transcripts
 * are joined) and the preemptive reply to the first part is dropped when the user goes on.
 */
export const SILERO_OPTIONS = { minSilenceDuration: 350 } as const;

/** Silero with Parley's settings; load once per process (the worker's prewarm) and share. */
export function loadVoiceVad(): Promise<VAD> {
  return silero.VAD.load(SILERO_OPTIONS);
}

import { inference } from '@livekit/agents';
import localInference from '@livekit/local-inference';

/**
 * Parley's VAD settings. The silence (Silero's default 550 ms) decides when an utterance is
 * sent to speech-to-text, and so when preemptive generation can start: every millisecond of
 * it is a millisecond of reply latency. 350 ms sends the utterance 200 ms sooner. It does not
 * decide when the user's turn ends: the endpointing delay in `TURN_HANDLING` (./session.ts)
 * does, counted from the last speech, or the end-of-turn model (./turn-detection.ts), which
 * needs at least 250 ms here. A longer pause within a turn only sends the speech to
 * speech-to-text in parts (their transcripts are joined into one turn) and the preemptive
 * reply to the first part is replaced when the rest arrives. The rest are Silero's usual
 * defaults, spelled out so that the benchmark gives every VAD it compares the same.
 */
export const PARLEY_VAD_OPTIONS = {
  minSilenceDuration: 350,
  minSpeechDuration: 50,
  prefixPaddingDuration: 500,
  activationThreshold: 0.5,
} as const;

/**
 * Silero as LiveKit's native streaming VAD (@livekit/local-inference, weights compiled in),
 * with Parley's settings. Its inference runs on libuv's thread pool, off the main thread, and
 * it holds its streams weakly, so one instance serves every call of a process however long it
 * runs (bench `vad` in BENCHMARKS.md: half the CPU of the onnxruntime Silero plugin, a third
 * of its main-thread time, the same speech boundaries). Creating it loads the model.
 */
export function createVoiceVad(): inference.VAD {
  localInference.initVad();
  return new inference.VAD(PARLEY_VAD_OPTIONS);
}

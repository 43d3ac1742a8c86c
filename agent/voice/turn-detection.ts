import { inference, type ipc } from '@livekit/agents';
import localInference from '@livekit/local-inference';
import type { Config } from '../../core/config.js';
import { AppError } from '../../core/errors.js';

export type TurnDetectionSetting = Config['voice']['turnDetection'];

/**
 * The method agents' local end-of-turn transport asks its executor to run (`lk_eot_audio` in
 * agents 1.9's `inference/eot/runner.ts`; agents does not export the name). Its request is
 * `{ pcm }`, base64 16 kHz mono PCM of the last 1.2 s; its answer `{ probability,
 * inferenceDurationMs }`. turn-detection.test.ts runs the real detector through it, so a
 * rename in agents fails that test instead of silently ending every turn.
 */
export const END_OF_TURN_METHOD = 'lk_eot_audio';

function isEndOfTurnRequest(data: unknown): data is { pcm: string } {
  return typeof data === 'object' && data !== null && typeof Reflect.get(data, 'pcm') === 'string';
}

/**
 * LiveKit's on-device end-of-turn model (`turn-detector-v1-mini`, in @livekit/local-inference)
 * run in this process, for calls that have no LiveKit job and so no job inference executor:
 * the direct WebRTC calls. Prediction runs on libuv's thread pool, off the main thread. The
 * model (~108 MB) loads on the first prediction, or in {@link prewarmEndOfTurn}.
 */
export class InProcessInferenceExecutor implements ipc.InferenceExecutor {
  async doInference(method: string, data: unknown): Promise<unknown> {
    if (method !== END_OF_TURN_METHOD || !isEndOfTurnRequest(data)) {
      throw new AppError('INTERNAL', `No in-process inference runner for ${method}`);
    }
    const bytes = Buffer.from(data.pcm, 'base64');
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2));
    const started = performance.now();
    const probability = await localInference.predict(pcm);
    return { probability, inferenceDurationMs: performance.now() - started };
  }
}

/** Loads the end-of-turn model now (seconds, once per process) instead of on the first turn. */
export function prewarmEndOfTurn(): void {
  localInference.initEot();
}

/**
 * The end-of-turn detector of one voice session. Never without an executor: agents' local
 * detector without one answers 1.0 ("the turn is over") to every question and logs a warning
 * once, which would look like working turn detection while being VAD-only. The local model
 * is named explicitly: agents picks its cloud model when LIVEKIT_DEV_MODE or
 * LIVEKIT_REMOTE_EOT_URL is set, and Parley sends no audio to LiveKit's cloud.
 * `unlikelyThreshold` (TURN_MODEL_THRESHOLD) replaces agents' per-language table: a probability
 * under it means "not done", and the turn waits the maximum delay.
 */
export function createTurnDetector(
  executor: ipc.InferenceExecutor | undefined,
  unlikelyThreshold?: number,
): inference.TurnDetector {
  if (executor === undefined) {
    throw new AppError(
      'INTERNAL',
      'TURN_DETECTION=model needs an inference executor: the LiveKit job’s, or Parley’s in-process one',
    );
  }
  // agents logs a warning for any threshold given (its cloud model's are calibrated by the
  // server); the local model's table is fixed, and TURN_MODEL_THRESHOLD is an explicit choice.
  return new inference.TurnDetector({
    version: 'v1-mini',
    executor,
    ...(unlikelyThreshold === undefined ? {} : { unlikelyThreshold }),
  });
}

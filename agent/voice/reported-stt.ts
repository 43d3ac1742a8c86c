import type { AudioBuffer, stt } from '@livekit/agents';
import { ForwardingSTT } from './forwarding-stt.js';

/** The error a {@link ReportedSTT} reports when an utterance could not be transcribed. */
export class UtteranceLostError extends Error {
  constructor(cause: unknown) {
    super('Speech-to-text failed; the utterance was dropped', { cause });
    this.name = 'UtteranceLostError';
  }
}

/** What an STT reports on its `error` event (the type is not exported by name). */
export type STTError = Parameters<stt.STTCallbacks['error']>[0];

/**
 * A non-streaming STT whose failed recognitions are reported. The framework runs a
 * non-streaming STT behind its VAD stream adapter, which logs a failed utterance and drops
 * it: the session never learns of it and the user, who spoke, gets silence. This hands each
 * failure to `onLost` as a recoverable `stt_error` (the adapter does go on with the next
 * utterance; an unrecoverable STT error would close the session). It is not emitted as this
 * STT's own `error` event, because the adapter re-emits those on itself, where nothing
 * listens, and an unheard `error` event throws.
 */
export class ReportedSTT extends ForwardingSTT {
  readonly #onLost: (error: STTError) => void;

  constructor(inner: stt.STT, onLost: (error: STTError) => void) {
    super(inner);
    this.#onLost = onLost;
  }

  protected override async _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal) {
    try {
      return await this.inner.recognize(buffer, abortSignal);
    } catch (error) {
      if (!abortSignal?.aborted) {
        this.#onLost({
          type: 'stt_error',
          timestamp: Date.now(),
          label: this.label,
          error: new UtteranceLostError(error),
          recoverable: true,
        });
      }
      throw error;
    }
  }
}

/** `model` with failed recognitions reported, when it is non-streaming (else unchanged). */
export function reportFailedRecognitions(
  model: stt.STT,
  onLost: (error: STTError) => void,
): stt.STT {
  return model.capabilities.streaming ? model : new ReportedSTT(model, onLost);
}

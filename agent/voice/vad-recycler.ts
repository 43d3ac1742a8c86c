import type { VAD } from '@livekit/agents';
import { loadVoiceVad } from './vad.js';

/** Calls served by one loaded Silero model before the next calls get a freshly loaded one. */
export const CALLS_PER_MODEL = 16;

/**
 * Silero for the many calls of one long-running process. The plugin's `VAD` keeps every
 * stream it ever opened, with its speech buffer, for as long as the `VAD` itself lives, so a
 * process-wide instance grows by megabytes with every call (bench `sessions`: 6-13 MiB held
 * per call made, after all calls ended). This hands the same model to `callsPerModel` calls,
 * meanwhile loads the next (~75 ms of CPU), and lets go of the old one: it is freed, with its
 * streams, when its last call ends.
 */
export class VadRecycler {
  #current: VAD;
  #handedOut = 0;
  #next: Promise<void> | undefined;

  private constructor(
    first: VAD,
    private readonly load: () => Promise<VAD>,
    private readonly callsPerModel: number,
  ) {
    this.#current = first;
  }

  /** Loads the first model; `load` defaults to Parley's Silero settings. */
  static async create(
    options: { load?: () => Promise<VAD>; callsPerModel?: number } = {},
  ): Promise<VadRecycler> {
    const load = options.load ?? loadVoiceVad;
    return new VadRecycler(await load(), load, options.callsPerModel ?? CALLS_PER_MODEL);
  }

  /** The VAD a new call should use. */
  forCall(): VAD {
    this.#handedOut += 1;
    if (this.#handedOut >= this.callsPerModel) this.#loadNext();
    return this.#current;
  }

  /** Resolves once no replacement is loading (for tests and shutdown). */
  async settled(): Promise<void> {
    await this.#next;
  }

  #loadNext(): void {
    if (this.#next !== undefined) return;
    // A failed load keeps the current model: calls go on, and the next call tries again.
    this.#next = this.load().then(
      (vad) => {
        this.#current = vad;
        this.#handedOut = 0;
      },
      () => {},
    );
    void this.#next.finally(() => {
      this.#next = undefined;
    });
  }
}

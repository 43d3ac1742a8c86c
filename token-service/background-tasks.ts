/**
 * Work that outlives the request that started it (a document's ingestion, a WebSocket turn
 * whose client went away). Shutdown waits for it, so nothing half-done is dropped.
 */
export class BackgroundTasks {
  readonly #pending = new Set<Promise<unknown>>();

  /** Keeps `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Resolves when everything tracked so far, and anything it started, has settled. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

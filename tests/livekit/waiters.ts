interface Waiter {
  /** Returns true once the waiter has settled. */
  check(): boolean;
  fail(error: Error): void;
}

/**
 * Promises that settle when a probe over changing state first returns a value. The owner
 * calls {@link Waiters.changed} after every state change; each wait is bounded by a timeout so
 * a test that waits for something that never happens fails with a message instead of hanging.
 */
export class Waiters {
  readonly #waiting = new Set<Waiter>();
  readonly #onChanged: () => void;
  #closed: Error | undefined;

  /** `onChanged` runs after every change too (the room server's child process reports it). */
  constructor(onChanged: () => void = () => undefined) {
    this.#onChanged = onChanged;
  }

  /** Resolves with the first value `probe` returns that is not `undefined`. */
  until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          let value: T | undefined;
          try {
            value = probe();
          } catch (error) {
            finish();
            reject(error);
            return true;
          }
          if (value === undefined) return false;
          finish();
          resolve(value);
          return true;
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      timer.unref();
      this.#waiting.add(waiter);
    });
  }

  /** Re-runs every pending probe. */
  changed(): void {
    for (const waiter of [...this.#waiting]) waiter.check();
    this.#onChanged();
  }

  /** Rejects every pending and future wait with `reason`. */
  close(reason: string): void {
    this.#closed = new Error(reason);
    for (const waiter of [...this.#waiting]) waiter.fail(this.#closed);
  }
}

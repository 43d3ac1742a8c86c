/**
 * A bound on how many of ingestion's INSERT statements run at once against one database,
 * shared by every document being ingested there: two uploads together take no more
 * connections from the pool than one, so chat and voice keep theirs.
 */
export class StatementSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`bad slot limit ${limit}`);
    this.free = limit;
  }

  /** Resolves once a slot is taken; give it back with `release`. First come, first served. */
  async acquire(): Promise<void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so a newcomer cannot jump the queue.
    if (next !== undefined) next();
    else this.free += 1;
  }
}

/**
 * One document's statements: each runs in a shared slot; the first failure is kept, and no
 * statement starts after it. `settle` waits for every statement started, so a caller that
 * cleans up after a failure does so after the last row that will ever land has landed.
 */
export class DocumentWrites {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly slots: StatementSlots) {}

  /**
   * Starts `statement` once a slot is free and returns when it has started (not finished),
   * so the caller can embed the next batch meanwhile. Throws an earlier statement's error.
   */
  async start(statement: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    await this.slots.acquire();
    if (this.failure !== undefined) {
      this.slots.release();
      this.throwIfFailed();
    }
    const run = statement()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.slots.release();
        this.running.delete(run);
      });
    this.running.add(run);
  }

  /** Waits for every statement started; throws the first failure, if any. */
  async finish(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every statement started, whatever their outcome. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

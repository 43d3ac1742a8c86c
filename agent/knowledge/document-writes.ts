import type { LimitFunction } from 'p-limit';

/**
 * One document's statements, each run through `limit`: a p-limit bound shared by every
 * document being ingested into one database, so two uploads together take no more pooled
 * connections than one and chat and voice keep theirs. The first failure is kept, and no
 * statement starts after it. `settle` waits for every statement started, so a caller that
 * cleans up after a failure does so after the last row that will ever land has landed.
 */
export class DocumentWrites {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: LimitFunction) {}

  /**
   * Starts `statement` once the shared bound lets it run and returns when it has started
   * (not finished), so the caller can embed the next batch meanwhile, and can queue no more
   * than one statement beyond the bound. Throws an earlier statement's error.
   */
  async start(statement: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    let started: () => void = () => {};
    const starting = new Promise<void>((resolve) => {
      started = resolve;
    });
    const run = this.limit(async () => {
      started();
      // A statement of this document failed while this one waited: it never starts.
      if (this.failure !== undefined) return;
      try {
        await statement();
      } catch (error) {
        // Kept before the bound lets the next statement in, so that one sees it.
        this.failure ??= { error };
      }
    }).finally(() => this.running.delete(run));
    this.running.add(run);
    await starting;
    this.throwIfFailed();
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

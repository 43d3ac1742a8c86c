/**
 * Whether conversation turns are running in this process, so that knowledge ingestion can
 * leave them the CPU. On a database server with few cores, each ingestion statement keeps a
 * backend busy inserting into the HNSW graph (~3 ms of CPU a chunk): three at once took the
 * cores a turn's own queries needed, and a text turn's database work went from 34 to 194 ms
 * p95 (BENCHMARKS.md, "Ingestion on PostgreSQL with the HNSW index live").
 */
export class TurnActivity {
  private running = 0;
  private lastEnded = Number.NEGATIVE_INFINITY;

  /**
   * @param quietMs How long after the last turn ended turns still count as active: a turn's
   *   database work comes in bursts (history and knowledge before the reply, the reply after
   *   it), and a room with a conversation going has its next turn soon.
   */
  constructor(
    private readonly quietMs = 3_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `work` (a turn's part that uses the database) counted as a turn. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.lastEnded = this.now();
    }
  }

  /** Whether a turn is running, or one ended less than `quietMs` ago. */
  get active(): boolean {
    return this.running > 0 || this.now() - this.lastEnded < this.quietMs;
  }
}

/** The process's turns: the retriever counts every turn, ingestion reads it. */
export const turnActivity = new TurnActivity();

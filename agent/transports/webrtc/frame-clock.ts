/**
 * Calls `onTick` every `periodMs` in real time until it returns false. Each tick is scheduled
 * against an absolute deadline, so timer jitter does not add up into drift; after a stall longer
 * than `maxLagMs` (a blocked event loop) it skips ahead instead of bursting to catch up.
 */
export class FrameClock {
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;

  constructor(
    private readonly periodMs: number,
    private readonly onTick: () => boolean,
    private readonly maxLagMs = 100,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts ticking now, unless already ticking. */
  start(): void {
    if (this.timer !== undefined) return;
    this.nextAt = performance.now();
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const delay = Math.max(0, this.nextAt - performance.now());
    this.timer = setTimeout(this.fire, delay);
    // Pacing audio is no reason to keep a process alive: the peer's sockets decide that.
    this.timer.unref();
  }

  private readonly fire = (): void => {
    const now = performance.now();
    if (now - this.nextAt > this.maxLagMs) this.nextAt = now;
    if (!this.onTick()) {
      this.timer = undefined;
      return;
    }
    this.nextAt += this.periodMs;
    this.schedule();
  };
}

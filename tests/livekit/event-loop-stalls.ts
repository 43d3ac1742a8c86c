/** One stretch during which this process's event loop ran nothing else. */
export interface Stall {
  /** When it began, in seconds since the recorder started. */
  atS: number;
  ms: number;
}

/**
 * Records this process's event-loop stalls longer than `thresholdMs`, with when they began:
 * a room test's server side (the SFU forwarding every participant's RTP, the emulators) runs
 * in the test process, so a stall there holds back audio on its way to a job, and a timeline
 * can be laid beside the job's uploads to see whether the two line up. A 20 ms timer that
 * fires late by more than the threshold is a stall of that length.
 */
export function recordStalls(thresholdMs = 100): {
  stalls: Stall[];
  elapsedS(): number;
  stop(): void;
} {
  const stalls: Stall[] = [];
  const started = performance.now();
  const everyMs = 20;
  let last = started;
  const timer = setInterval(() => {
    const now = performance.now();
    const lateMs = now - last - everyMs;
    if (lateMs > thresholdMs) {
      stalls.push({ atS: round((last - started) / 1000), ms: Math.round(lateMs) });
    }
    last = now;
  }, everyMs);
  timer.unref();
  return {
    stalls,
    elapsedS: () => round((performance.now() - started) / 1000),
    stop: () => clearInterval(timer),
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

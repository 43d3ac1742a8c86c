/** One stretch during which this process's event loop ran nothing else. */
export interface Stall {
  /** When it began, in seconds since the recorder started. */
  atS: number;
  ms: number;
  /**
   * CPU this process used meanwhile, all its threads (rtc-node's native ones too): near or
   * above `ms`, the process itself was busy (moving work out of it helps); near 0, the host
   * did not run it (too many busy processes on the cores).
   */
  cpuMs: number;
}

/**
 * Records this process's event-loop stalls longer than `thresholdMs`, with when they began:
 * a room test's users (their microphones), the API, the database and the emulators run in
 * the test process (the SFU in its own), so a stall there holds back audio on its way to a
 * job, and a timeline can be laid beside the job's uploads to see whether the two line up. A
 * 20 ms timer that fires late by more than the threshold is a stall of that length.
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
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const lateMs = now - last - everyMs;
    if (lateMs > thresholdMs) {
      const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      stalls.push({ atS: round((last - started) / 1000), ms: Math.round(lateMs), cpuMs });
    }
    last = now;
    lastCpu = process.cpuUsage();
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

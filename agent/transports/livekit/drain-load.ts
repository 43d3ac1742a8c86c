import type { ServerOptions } from '@livekit/agents';

type LoadFunc = ServerOptions['loadFunc'];

/**
 * The load a draining worker reports: agents' own drain message says `load: 1`, and 1 is at
 * or above the production threshold (0.7), so LiveKit keeps seeing the worker as full.
 */
export const DRAINING_LOAD = 1;

/**
 * Wraps agents' load measurement so a draining worker never reports itself available again.
 * agents measures CPU over 2.5 s every 2.5 s, so a measurement is nearly always in flight
 * when SIGTERM arrives; in agents 1.9 it resolves after `drain()` has said "full" and sends
 * "available" (LiveKit could then dispatch a job the worker rejects), before the next tick
 * says "full" again. Checking the flag after the measurement, too, closes that window.
 */
export function drainAwareLoad(measure: LoadFunc, isDraining: () => boolean): LoadFunc {
  return async (server) => {
    if (isDraining()) return DRAINING_LOAD;
    const load = await measure(server);
    return isDraining() ? DRAINING_LOAD : load;
  };
}

/**
 * A flag set when the process is asked to stop (SIGTERM, Ctrl-C), the signals on which
 * agents' CLI drains the worker. Listening does not change what the CLI does on them.
 */
export function watchDrainSignals(target: NodeJS.Process = process): () => boolean {
  let draining = false;
  const drain = () => {
    draining = true;
  };
  target.once('SIGTERM', drain);
  target.once('SIGINT', drain);
  return () => draining;
}

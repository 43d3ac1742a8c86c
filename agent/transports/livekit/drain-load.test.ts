import { EventEmitter } from 'node:events';
import type { AgentServer } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { DRAINING_LOAD, drainAwareLoad, watchDrainSignals } from './drain-load.js';

/** A load measurement the test finishes by hand, as agents' 2.5 s CPU sample would. */
function pendingMeasure() {
  let finish: (load: number) => void = () => {};
  const measure = () =>
    new Promise<number>((resolve) => {
      finish = resolve;
    });
  return { measure, finish: (load: number) => finish(load) };
}

const server = {} as AgentServer;

describe('drainAwareLoad', () => {
  it('passes the measured load through while the worker serves', async () => {
    const { measure, finish } = pendingMeasure();
    const load = drainAwareLoad(measure, () => false)(server);
    finish(0.2);
    expect(await load).toBe(0.2);
  });

  it('reports full for a measurement that was in flight when draining began', async () => {
    let draining = false;
    const { measure, finish } = pendingMeasure();
    const load = drainAwareLoad(measure, () => draining)(server);
    draining = true;
    finish(0.1);
    expect(await load).toBe(DRAINING_LOAD);
  });

  it('does not measure at all once draining', async () => {
    let measured = false;
    const load = drainAwareLoad(
      async () => {
        measured = true;
        return 0;
      },
      () => true,
    );
    expect(await load(server)).toBe(DRAINING_LOAD);
    expect(measured).toBe(false);
  });
});

describe('watchDrainSignals', () => {
  it('turns on at SIGTERM', () => {
    const target = new EventEmitter() as NodeJS.Process;
    const draining = watchDrainSignals(target);
    expect(draining()).toBe(false);
    target.emit('SIGTERM');
    expect(draining()).toBe(true);
  });
});

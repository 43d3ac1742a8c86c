import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { Distilled } from './distill.js';
import { MemoryKeeper } from './keeper.js';

const NOTHING: Distilled = { messages: 0, memories: 0, more: false };

/** A distillation the test finishes by hand, recording how many ran at once per room. */
function gatedDistill() {
  const gates: (() => void)[] = [];
  const running = new Map<number, number>();
  const calls: number[] = [];
  let mostAtOnce = 0;
  const distill = async (chatRoomId: number): Promise<Distilled> => {
    calls.push(chatRoomId);
    const now = (running.get(chatRoomId) ?? 0) + 1;
    running.set(chatRoomId, now);
    mostAtOnce = Math.max(mostAtOnce, now);
    await new Promise<void>((resolve) => gates.push(resolve));
    running.set(chatRoomId, now - 1);
    return NOTHING;
  };
  return { distill, gates, calls, mostAtOnce: () => mostAtOnce };
}

async function untilGates(gates: unknown[], count: number): Promise<void> {
  while (gates.length < count) await new Promise((resolve) => setImmediate(resolve));
}

function keeper(distill: (id: number) => Promise<Distilled>, idleMs = 60_000) {
  return new MemoryKeeper({
    distill,
    flush: async () => {},
    logger: createLogger({ level: 'silent' }),
    idleMs,
  });
}

describe('MemoryKeeper', () => {
  it('distils a room once at a time, and once more for ends that came meanwhile', async () => {
    const gated = gatedDistill();
    const memory = keeper(gated.distill);
    const first = memory.ended(7);
    await untilGates(gated.gates, 1);
    // Two more ends while the first runs: one more run covers both.
    const second = memory.ended(7);
    const third = memory.ended(7);
    gated.gates.shift()?.();
    await untilGates(gated.gates, 1);
    gated.gates.shift()?.();
    await Promise.all([first, second, third]);
    expect(gated.calls).toEqual([7, 7]);
    expect(gated.mostAtOnce()).toBe(1);
  });

  it('logs a failure and tries again the next time', async () => {
    let attempts = 0;
    const memory = keeper(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('provider down');
      return NOTHING;
    });
    await expect(memory.ended(3)).resolves.toBeUndefined();
    await memory.ended(3);
    expect(attempts).toBe(2);
  });

  it('distils a quiet room after the idle time, and rooms still waiting on close', async () => {
    const seen: number[] = [];
    const distill = async (id: number) => {
      seen.push(id);
      return NOTHING;
    };
    const quick = keeper(distill, 1);
    quick.active(1);
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([1]);
    const slow = keeper(distill, 3_600_000);
    slow.active(2);
    await slow.close();
    expect(seen).toEqual([1, 2]);
  });
});

import { describe, expect, it } from 'vitest';
import { TurnActivity } from './turn-activity.js';

describe('TurnActivity', () => {
  it('is active while a turn runs and for quietMs after the last one ends', async () => {
    let now = 0;
    const turns = new TurnActivity(1_000, () => now);
    expect(turns.active).toBe(false);
    let finish: () => void = () => {};
    const first = turns.during(() => new Promise<void>((resolve) => (finish = resolve)));
    const second = turns.during(async () => 'done');
    expect(turns.active).toBe(true);
    expect(await second).toBe('done');
    now = 5_000;
    // The first turn still runs, however long ago the second ended.
    expect(turns.active).toBe(true);
    finish();
    await first;
    now = 5_999;
    expect(turns.active).toBe(true);
    now = 6_000;
    expect(turns.active).toBe(false);
  });

  it('counts a turn that failed as ended', async () => {
    let now = 0;
    const turns = new TurnActivity(1_000, () => now);
    await expect(turns.during(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    now = 1_000;
    expect(turns.active).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import {
  diffByName,
  parseStatCpuMs,
  parseStatName,
  processCpuMs,
  processesCpuMs,
  threadCpuMs,
} from './proc-cpu.js';

// A real line from /proc/<pid>/task/<tid>/stat, with a thread name holding a space and a ')'.
const STAT =
  '4242 (V8 Worker) x) S 1 4242 18341 0 -1 4194304 99 0 0 0 250 37 0 0 20 0 11 0 1026501 ' +
  '3133440 379 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0';

describe('parseStatCpuMs', () => {
  it('adds utime and stime, in milliseconds at 100 ticks a second', () => {
    expect(parseStatCpuMs(STAT)).toBe(2870);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseStatCpuMs('hello')).toThrow(/not a \/proc stat line/);
  });
});

describe('parseStatName', () => {
  it('takes everything between the first ( and the last )', () => {
    expect(parseStatName(STAT)).toBe('V8 Worker) x');
  });
});

describe('reading this process', () => {
  it('sees CPU time grow while this thread works', () => {
    const before = processCpuMs(process.pid);
    const threadsBefore = threadCpuMs(process.pid);
    const end = performance.now() + 150;
    let spin = 0;
    while (performance.now() < end) spin++;
    expect(spin).toBeGreaterThan(0);
    expect(processCpuMs(process.pid)).toBeGreaterThan(before);
    const used = diffByName(threadsBefore, threadCpuMs(process.pid));
    expect([...used.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(threadCpuMs(process.pid).has('main')).toBe(true);
  });
});

describe('diffByName', () => {
  it('keeps only names that used CPU in between', () => {
    const before = new Map([
      ['node', 100],
      ['idle', 5],
    ]);
    const after = new Map([
      ['node', 180],
      ['idle', 5],
      ['new', 20],
    ]);
    expect([...diffByName(before, after)]).toEqual([
      ['node', 80],
      ['new', 20],
    ]);
  });
});

describe('processesCpuMs', () => {
  it('adds the processes up, and one that is gone counts nothing', () => {
    // Above Linux's largest pid_max (2^22): no such process can exist.
    const gone = 2 ** 22 + 1;
    const before = processCpuMs(process.pid);
    expect(processesCpuMs([process.pid, gone])).toBeGreaterThanOrEqual(before);
    expect(processesCpuMs([gone])).toBe(0);
  });
});

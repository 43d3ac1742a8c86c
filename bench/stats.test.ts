import { describe, expect, it } from 'vitest';
import { fmt, percentile, summarize } from './stats.js';

describe('percentile', () => {
  it('takes the nearest rank, whatever the input order', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 10)).toBe(1);
    expect(percentile(samples, 0)).toBe(1);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('reports p50, p95, p99, max and mean', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(samples)).toEqual({
      count: 100,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
      mean: 50.5,
    });
  });
});

describe('fmt', () => {
  it('rounds large numbers to integers with separators and small ones to decimals', () => {
    expect(fmt(1234.56)).toBe('1,235');
    expect(fmt(2.34567)).toBe('2.35');
    expect(fmt(0.98765, 3)).toBe('0.988');
  });
});

/** Percentiles and summaries of timing samples, in the units the samples are in. */

/** The `p`-th percentile (0-100) by nearest rank over a copy of the samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** p50/p95/p99/max/mean of the samples. */
export function summarize(samples: readonly number[]): Summary {
  const mean = samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length);
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
    mean,
  };
}

/** A number rounded for a table: integers above 100, otherwise up to `digits` decimals. */
export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toFixed(digits)));
}

/** `p50 / p95` of a summary with a unit, e.g. `3.1 / 5.2 ms`. */
export function p50p95(summary: Summary, unit: string): string {
  return `${fmt(summary.p50)} / ${fmt(summary.p95)} ${unit}`;
}

/**
 * What an idle connection saves: the time a query waits when its pool must first open a
 * connection (TCP, SCRAM-SHA-256 authentication, the first query) against a query on a
 * connection already open. postgres.js closes idle connections after `idle_timeout` seconds
 * (0, Parley's setting: never), so this is the price a non-zero timeout makes the first query
 * after a quiet spell pay, per connection it reopens.
 */
import postgres from 'postgres';
import type { ResultRow } from './report.js';
import { p50p95, summarize } from './stats.js';

const SAMPLES = 40;

export async function connectionCostRows(url: string): Promise<ResultRow[]> {
  const fresh: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    const started = performance.now();
    await client`select 1`;
    fresh.push(performance.now() - started);
    await client.end();
  }
  const pooled = postgres(url, { max: 1, onnotice: () => {} });
  const open: number[] = [];
  try {
    await pooled`select 1`;
    for (let i = 0; i < SAMPLES; i++) {
      const started = performance.now();
      await pooled`select 1`;
      open.push(performance.now() - started);
    }
  } finally {
    await pooled.end();
  }
  return [
    {
      metric: `first query on a new connection (TCP + SCRAM + query, loopback), p50 / p95 (${SAMPLES})`,
      value: p50p95(summarize(fresh), 'ms'),
    },
    {
      metric: `the same query on an open connection, p50 / p95 (${SAMPLES})`,
      value: p50p95(summarize(open), 'ms'),
    },
  ];
}

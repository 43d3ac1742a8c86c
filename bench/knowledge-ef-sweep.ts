/**
 * The `knowledge` section's ef_search sweep: the product's top-5 query under several HNSW
 * candidate-list sizes on one built index, the same queries for each, recall@5 against exact
 * search beside latency, so the product's `defaultEfSearch` is chosen from one run with its
 * margin in view. The build itself is not deterministic (pgvector inserts in parallel and
 * the graph depends on the order), so a size can be built more than once.
 */
import { defaultEfSearch } from '../db/queries/knowledge.js';
import type { Store } from './knowledge-store.js';
import type { ResultRow } from './report.js';
import type { EmulatedEmbedder } from './retrieval-corpus.js';
import { findSimilarChunksWith } from './search-settings.js';
import { fmt, p50p95, summarize } from './stats.js';

const TOP_K = 5;
const WARMUP_QUERIES = 20;

export interface SweepQueries {
  vectors: number[][];
  /** Each vector's exact top-5 (the chunks' texts). */
  exact: Set<string>[];
}

/** `count` query vectors and their exact answers, computed once for every ef_search and build. */
export function sweepQueries(embedder: EmulatedEmbedder, count: number): SweepQueries {
  const vectors = Array.from({ length: count }, () => embedder.queryVector());
  return { vectors, exact: vectors.map((v) => new Set(embedder.exactTopK(v, TOP_K))) };
}

/** One row per ef_search: latency p50 / p95 and recall@5; the target on the product's. */
export async function sweepEfSearch(
  store: Store,
  characterId: string,
  queries: SweepQueries,
  sweep: { efSearch: number[]; label: string },
): Promise<ResultRow[]> {
  const db = store.handle.db;
  const product = defaultEfSearch(TOP_K);
  const rows: ResultRow[] = [];
  for (const efSearch of sweep.efSearch) {
    const search = (embedding: number[]) =>
      findSimilarChunksWith(db, { characterId, embedding, limit: TOP_K }, { efSearch });
    const warmup = queries.vectors.slice(0, WARMUP_QUERIES);
    const { wall, recall } = await timeQueries(search, queries, warmup);
    const which = efSearch === product ? ' (product)' : '';
    rows.push({
      metric: `${sweep.label}, ef_search ${efSearch}${which}: top-5 latency p50 / p95; recall@5 vs exact (${queries.vectors.length} queries)`,
      value: `${p50p95(wall, 'ms')}; ${fmt(recall, 3)}`,
      ...(efSearch === product ? { target: 'recall@5 >= 0.95', met: recall >= 0.95 } : {}),
    });
  }
  return rows;
}

/**
 * Runs `warmup`, then times `search` on each of `queries`: wall time per query, and recall@5
 * against each query's exact top 5.
 */
export async function timeQueries(
  search: (embedding: number[]) => Promise<{ content: string }[]>,
  queries: SweepQueries,
  warmup: readonly number[][],
) {
  for (const embedding of warmup) await search(embedding);
  const wallMs: number[] = [];
  let hits = 0;
  for (const [i, embedding] of queries.vectors.entries()) {
    const started = performance.now();
    const found = await search(embedding);
    wallMs.push(performance.now() - started);
    hits += found.filter((chunk) => queries.exact[i]?.has(chunk.content)).length;
  }
  return { wall: summarize(wallMs), recall: hits / (queries.vectors.length * TOP_K) };
}

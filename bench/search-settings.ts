/**
 * The product's retrieval query under other planner and HNSW settings, for the benchmarks
 * that compare them: the product's `findSimilarChunks` always runs with
 * `productSearchSettings`, so the variants live here, not as parameters of the product query.
 */
import type { Executor } from '../db/client.js';
import {
  productSearchSettings,
  type SearchSettings,
  type SimilarChunk,
  type SimilarChunkQuery,
  similarAbove,
  similarChunksSelect,
  withSearchSettings,
} from '../db/queries/knowledge.js';

/** Settings to compare; what is left out is the product's. */
export type SettingsOverride = Partial<SearchSettings>;

/** The product's settings for `query` with `override` on top. */
export function searchSettings(
  query: SimilarChunkQuery,
  override: SettingsOverride,
): SearchSettings {
  return { ...productSearchSettings(query.limit), ...override };
}

/** `findSimilarChunks` with `override` applied to the product's settings. */
export async function findSimilarChunksWith(
  db: Executor,
  query: SimilarChunkQuery,
  override: SettingsOverride,
): Promise<SimilarChunk[]> {
  const settings = searchSettings(query, override);
  const rows = await withSearchSettings(db, settings, (tx) => similarChunksSelect(tx, query));
  return similarAbove(rows, query.minSimilarity);
}

/**
 * The change this benchmark proposes for `findSimilarChunks` (db/queries/knowledge.ts), kept
 * here so both can be timed side by side in one run. Same inputs, same result shape.
 *
 * Why: the planner prices pgvector's `<=>` like any cheap operator (cost 1), so for a
 * character with ~10k chunks it prefers reading every row and sorting by distance (exact,
 * ~100-200 ms of CPU at 1536 dimensions in PGlite) over the HNSW index (~10 ms). Raising
 * `cpu_operator_cost` for this one transaction tells it what a 1536-dimension distance
 * really costs: the index wins for large knowledge bases, while a character with a few hundred
 * chunks still gets the exact scan over its own rows (checked with EXPLAIN in the bench).
 * Also: the query vector is sent once (ORDER BY the selected distance), not twice, since
 * parsing a 1536-number literal costs ~5 ms in PGlite; and the three settings take one
 * round trip.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import type { SimilarChunk, SimilarChunkQuery } from '../db/queries/knowledge.js';
import { knowledgeChunks } from '../db/schema.js';

/** 20x PostgreSQL's default 0.0025; 0.01 already flips the plan at 10k chunks. */
export const DISTANCE_AWARE_OPERATOR_COST = '0.05';

/** The product's `hnsw.ef_search` for a top-5 query: max(40, limit x 4). */
export const PRODUCT_EF_SEARCH = 40;

/** The proposed query with `hnsw.ef_search` = `efSearch` (the product uses 40 for top 5). */
export function proposedSearch(efSearch: number) {
  return (db: Executor, query: SimilarChunkQuery) =>
    findSimilarChunksProposed(db, query, Math.max(efSearch, query.limit * 4));
}

export async function findSimilarChunksProposed(
  db: Executor,
  query: SimilarChunkQuery,
  efSearchValue = Math.max(PRODUCT_EF_SEARCH, query.limit * 4),
): Promise<SimilarChunk[]> {
  const literal = `[${query.embedding.join(',')}]`;
  const efSearch = String(efSearchValue);
  const rows = await db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('hnsw.iterative_scan', 'strict_order', true),
                 set_config('hnsw.ef_search', ${efSearch}, true),
                 set_config('cpu_operator_cost', ${DISTANCE_AWARE_OPERATOR_COST}, true)`,
    );
    return tx
      .select({
        id: knowledgeChunks.id,
        documentId: knowledgeChunks.documentId,
        content: knowledgeChunks.content,
        distance: sql<number>`${knowledgeChunks.embedding} <=> ${literal}::vector`
          .mapWith(Number)
          .as('distance'),
      })
      .from(knowledgeChunks)
      .where(eq(knowledgeChunks.characterId, query.characterId))
      .orderBy(sql`distance`)
      .limit(query.limit);
  });
  const floor = query.minSimilarity ?? -1;
  return rows
    .map(({ distance: d, ...row }) => ({ ...row, similarity: 1 - d }))
    .filter((row) => row.similarity >= floor);
}

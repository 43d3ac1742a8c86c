/**
 * The product's retrieval query as it was before the vector travelled as integers: the same
 * SQL and settings, the query vector sent as a decimal literal (`[0.0123...,...]`), which
 * PGlite parses with software floating point. Kept to measure the difference side by side.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import {
  DISTANCE_OPERATOR_COST,
  defaultEfSearch,
  type SimilarChunk,
  type SimilarChunkQuery,
} from '../db/queries/knowledge.js';
import { knowledgeChunks } from '../db/schema.js';

/** `findSimilarChunks` with the query vector as a decimal literal. */
export async function findWithDecimalLiteral(
  db: Executor,
  query: SimilarChunkQuery,
): Promise<SimilarChunk[]> {
  const literal = `[${query.embedding.join(',')}]`;
  const efSearch = String(query.efSearch ?? defaultEfSearch(query.limit));
  const operatorCost = String(query.operatorCost ?? DISTANCE_OPERATOR_COST);
  const rows = await db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('hnsw.iterative_scan', 'strict_order', true),
                 set_config('hnsw.ef_search', ${efSearch}, true),
                 set_config('cpu_operator_cost', ${operatorCost}, true)`,
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
  return rows.map(({ distance, ...row }) => ({ ...row, similarity: 1 - distance }));
}

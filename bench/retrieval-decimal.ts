/**
 * The product's retrieval query as it was before the vector travelled as integers: the same
 * SQL and settings, the query vector sent as a decimal literal (`[0.0123...,...]`), which
 * PGlite parses with software floating point. Kept to measure the difference side by side.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import {
  productSearchSettings,
  type SimilarChunk,
  type SimilarChunkQuery,
  withSearchSettings,
} from '../db/queries/knowledge.js';
import { knowledgeChunks } from '../db/schema.js';

/** `findSimilarChunks` with the query vector as a decimal literal. */
export async function findWithDecimalLiteral(
  db: Executor,
  query: SimilarChunkQuery,
): Promise<SimilarChunk[]> {
  const literal = `[${query.embedding.join(',')}]`;
  const settings = productSearchSettings(query.limit);
  const rows = await withSearchSettings(db, settings, (tx) =>
    tx
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
      .limit(query.limit),
  );
  return rows.map(({ distance, ...row }) => ({ ...row, similarity: 1 - distance }));
}

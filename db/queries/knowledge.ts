import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type KnowledgeDocument, knowledgeChunks, knowledgeDocuments } from '../schema.js';

export type NewDocument = Pick<
  KnowledgeDocument,
  'characterId' | 'title' | 'contentType' | 'content'
>;

export async function createDocument(db: Executor, input: NewDocument): Promise<KnowledgeDocument> {
  const [row] = await db.insert(knowledgeDocuments).values(input).returning();
  if (row === undefined) throw new Error('insert into knowledge_documents returned nothing');
  return row;
}

export async function getDocument(
  db: Executor,
  id: string,
): Promise<KnowledgeDocument | undefined> {
  const [row] = await db.select().from(knowledgeDocuments).where(eq(knowledgeDocuments.id, id));
  return row;
}

export async function listDocuments(
  db: Executor,
  characterId: string,
): Promise<KnowledgeDocument[]> {
  return db
    .select()
    .from(knowledgeDocuments)
    .where(eq(knowledgeDocuments.characterId, characterId))
    .orderBy(asc(knowledgeDocuments.createdAt), asc(knowledgeDocuments.id));
}

export async function markDocumentFailed(db: Executor, id: string, error: string): Promise<void> {
  await db
    .update(knowledgeDocuments)
    .set({ status: 'failed', error, updatedAt: sql`now()` })
    .where(eq(knowledgeDocuments.id, id));
}

export interface ChunkInput {
  content: string;
  embedding: number[];
}

/** Rows per INSERT: large enough to amortise round trips, small enough for parameter limits. */
export const CHUNK_BATCH_SIZE = 200;

/**
 * Replaces a document's chunks in one transaction, inserting in batches, and marks the
 * document ready. Readers see the old chunks or the new ones, never a mix.
 */
export async function replaceDocumentChunks(
  db: Executor,
  params: { documentId: string; characterId: string; chunks: ChunkInput[] },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(knowledgeChunks).where(eq(knowledgeChunks.documentId, params.documentId));
    for (let start = 0; start < params.chunks.length; start += CHUNK_BATCH_SIZE) {
      const batch = params.chunks.slice(start, start + CHUNK_BATCH_SIZE);
      await tx.insert(knowledgeChunks).values(
        batch.map((chunk, offset) => ({
          documentId: params.documentId,
          characterId: params.characterId,
          chunkIndex: start + offset,
          content: chunk.content,
          embedding: chunk.embedding,
        })),
      );
    }
    await tx
      .update(knowledgeDocuments)
      .set({
        status: 'ready',
        chunkCount: params.chunks.length,
        error: null,
        updatedAt: sql`now()`,
      })
      .where(eq(knowledgeDocuments.id, params.documentId));
  });
}

export interface SimilarChunk {
  id: number;
  documentId: string;
  content: string;
  /** Cosine similarity, 1 for the same direction. */
  similarity: number;
}

export interface SimilarChunkQuery {
  characterId: string;
  embedding: number[];
  limit: number;
  /** Chunks less similar than this are dropped. */
  minSimilarity?: number;
  /** HNSW candidate list size; default max(40, limit x 4). Larger: better recall, more CPU. */
  efSearch?: number;
}

/**
 * What one 1536-dimension cosine distance costs the planner, for this query only: 20x
 * PostgreSQL's default operator cost. At the default, the planner prices pgvector's `<=>`
 * like any cheap operator and, for a character with ~10k chunks, reads and sorts every row
 * (~170 ms of CPU in PGlite) instead of using the HNSW index (~11 ms); small knowledge
 * bases still get the exact scan of their own rows (`npm run bench -- retrieval`).
 */
const DISTANCE_OPERATOR_COST = '0.05';

/**
 * The `limit` chunks of one character closest to `embedding` by cosine distance. The HNSW
 * index serves it; iterative scanning keeps the character filter from starving the result.
 * The query vector is sent once: parsing a 1536-number literal is not free.
 */
export async function findSimilarChunks(
  db: Executor,
  query: SimilarChunkQuery,
): Promise<SimilarChunk[]> {
  const literal = `[${query.embedding.join(',')}]`;
  const efSearch = String(query.efSearch ?? Math.max(40, query.limit * 4));
  const rows = await db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('hnsw.iterative_scan', 'strict_order', true),
                 set_config('hnsw.ef_search', ${efSearch}, true),
                 set_config('cpu_operator_cost', ${DISTANCE_OPERATOR_COST}, true)`,
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

/** Deletes a document and, by cascade, its chunks. */
export async function deleteDocument(
  db: Executor,
  params: { id: string; characterId: string },
): Promise<boolean> {
  const rows = await db
    .delete(knowledgeDocuments)
    .where(
      and(
        eq(knowledgeDocuments.id, params.id),
        eq(knowledgeDocuments.characterId, params.characterId),
      ),
    )
    .returning({ id: knowledgeDocuments.id });
  return rows.length > 0;
}

/** A character's document with this title, if one exists (re-ingesting a file replaces it). */
export async function findDocumentByTitle(
  db: Executor,
  params: { characterId: string; title: string },
): Promise<KnowledgeDocument | undefined> {
  const [row] = await db
    .select()
    .from(knowledgeDocuments)
    .where(
      and(
        eq(knowledgeDocuments.characterId, params.characterId),
        eq(knowledgeDocuments.title, params.title),
      ),
    );
  return row;
}

/** New content for a document; it goes back to `pending` until re-ingested. */
export async function updateDocumentContent(
  db: Executor,
  params: { id: string; content: string; contentType: string },
): Promise<KnowledgeDocument> {
  const [row] = await db
    .update(knowledgeDocuments)
    .set({
      content: params.content,
      contentType: params.contentType,
      status: 'pending',
      error: null,
      updatedAt: sql`now()`,
    })
    .where(eq(knowledgeDocuments.id, params.id))
    .returning();
  if (row === undefined) throw new Error(`document ${params.id} does not exist`);
  return row;
}

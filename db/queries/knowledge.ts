import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { and, asc, eq, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import {
  characters,
  type KnowledgeDocument,
  knowledgeChunks,
  knowledgeDocuments,
} from '../schema.js';
import { mantissaArrayText, mantissaExponent } from './vector-literal.js';

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

/**
 * An embedding as SQL that PGlite turns into a `vector` without parsing a decimal fraction.
 * PGlite's C library (musl, in WebAssembly) parses fractions with software long-double
 * arithmetic: ~3 µs a number, ~4 ms for 1536 of them however few digits they have, where
 * integers cost a fraction of that (`npm run bench -- retrieval`). So the vector travels as
 * int4 mantissas under one power-of-two scale, multiplied back in float32 by pgvector.
 * Components down to 1/128 of the largest come back exactly; smaller ones are within 2^-30
 * of the largest (float32 itself rounds a typical component of a unit embedding ~15x more
 * coarsely), so distances are those of the float32 vector.
 */
export function vectorSql(embedding: number[]): SQL {
  const exponent = mantissaExponent(embedding);
  const mantissas = mantissaArrayText(embedding, exponent);
  return sql`(${mantissas}::int4[]::vector * array_fill(${2 ** -exponent}::real, array[${embedding.length}::int])::vector)`;
}

/** Removes a document's chunks (before it is ingested again, or after ingestion failed). */
export async function deleteDocumentChunks(db: Executor, documentId: string): Promise<void> {
  await db.delete(knowledgeChunks).where(eq(knowledgeChunks.documentId, documentId));
}

/** Rows whose vectors are written between two turns of the event loop (~0.07 ms each). */
const ROWS_BETWEEN_YIELDS = 8;

/**
 * Inserts some of a document's chunks, numbered from `firstIndex`, in one short statement:
 * ingestion stores a large document as many of these, so no single one holds the database
 * (or, embedded, the event loop) for long. Writing the vectors' text is the Node side's main
 * cost, so the event loop is served every {@link ROWS_BETWEEN_YIELDS} rows while it is built.
 */
export async function insertDocumentChunks(
  db: Executor,
  params: { documentId: string; characterId: string; firstIndex: number; chunks: ChunkInput[] },
): Promise<void> {
  if (params.chunks.length === 0) return;
  const rows = [];
  for (const [offset, chunk] of params.chunks.entries()) {
    if (offset > 0 && offset % ROWS_BETWEEN_YIELDS === 0) await yieldToLoop();
    rows.push({
      documentId: params.documentId,
      characterId: params.characterId,
      chunkIndex: params.firstIndex + offset,
      content: chunk.content,
      embedding: vectorSql(chunk.embedding),
    });
  }
  await db.insert(knowledgeChunks).values(rows);
}

/** Marks a document whose chunks are all stored as ready. */
export async function markDocumentReady(
  db: Executor,
  id: string,
  chunkCount: number,
): Promise<void> {
  await db
    .update(knowledgeDocuments)
    .set({ status: 'ready', chunkCount, error: null, updatedAt: sql`now()` })
    .where(eq(knowledgeDocuments.id, id));
}

/** Characters of document text all of a user's characters hold: the per-user upload budget. */
export async function knowledgeCharsOfOwner(db: Executor, ownerId: string): Promise<number> {
  const [row] = await db
    .select({ chars: sql<number>`coalesce(sum(length(${knowledgeDocuments.content})), 0)::int` })
    .from(knowledgeDocuments)
    .innerJoin(characters, eq(characters.id, knowledgeDocuments.characterId))
    .where(eq(characters.ownerId, ownerId));
  return row?.chars ?? 0;
}

/** Whether the character has any knowledge chunk: one indexed row read, no embedding. */
export async function characterHasKnowledge(db: Executor, characterId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql<number>`1` })
    .from(knowledgeChunks)
    .where(sql`${knowledgeChunks.characterId} = ${characterId}`)
    .limit(1);
  return rows.length > 0;
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
          embedding: vectorSql(chunk.embedding),
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
}

/** The planner and HNSW settings a search runs under (the product's: `productSearchSettings`). */
export interface SearchSettings {
  /** HNSW candidate list size. Larger: better recall, more CPU. */
  efSearch: number;
  /** Planner cost of one distance. */
  operatorCost: number;
}

/**
 * HNSW candidate list size for a top-`limit` search. At 100k chunks on PostgreSQL recall@5
 * was 0.939-0.963 across runs at 64, under or at the edge of the 0.95 target; the build is
 * not deterministic, so `npm run bench -- knowledge` builds the index twice and sweeps the
 * same 200 queries over each: 64 gave 0.970 and 0.951, 100 0.970 and 0.961, **128 0.979 and
 * 0.976**, 160 no more than 128, with p95 latency 8.1-8.4 ms at 128 against 9.0-11.5 ms at 64
 * (noise at that load: the candidate list is not what the time goes to at this size). At
 * 10k, on PGlite and PostgreSQL, every value gave 1.000. At 50k (`npm run bench --
 * retrieval`) 100 cost ~1.5x the CPU of 40 on PGlite.
 */
export function defaultEfSearch(limit: number): number {
  return Math.max(128, limit * 4);
}

/**
 * What one 1536-dimension cosine distance costs the planner, for this query only: 400x
 * PostgreSQL's default operator cost. The planner weighs reading a character's rows through
 * the character btree and computing every distance (exact) against the HNSW index filtered by
 * character (pgvector's iterative scan keeps walking until `limit` of the character's chunks
 * are found). In a 10k-chunk table shared by several characters, the exact scan costs ~11 ms
 * of CPU at 300 rows, ~13 at 500, ~22 at 1k, ~34 at 2k, ~43 at 2.8k; the index ~7-8 ms at
 * any size from 500 up, recall@5 0.99-1 (`npm run bench -- retrieval`, mixed table). At 1 the
 * switch falls between 300 and 500 rows, where the two cost the same; at 0.05 (before) it
 * fell between 2.8k and 4k rows, and at 0.5 between 500 and 700. Higher costs push the index
 * onto smaller characters, where it is no faster and recall drops (0.953 at 300 rows from 2,
 * 0.94 at 200 rows from 20). In a 50k table the switch moves to between 500 and 1k rows
 * (2%): there a 1k-row character got the index at 19.5 ms against 21.6 exact, recall@5 0.96
 * (30 queries; ef_search 100 gave 13.2 ms and 0.987), 2.5k rows 10.8 ms against 46 exact,
 * recall 1 (exploration with the bench's mixed table). The setting prices every operator of
 * the query, the character comparison too; the distance is what dominates.
 */
export const DISTANCE_OPERATOR_COST = 1;

/** The settings the product searches with for a top-`limit` query. */
export function productSearchSettings(limit: number): SearchSettings {
  return { efSearch: defaultEfSearch(limit), operatorCost: DISTANCE_OPERATOR_COST };
}

/** The product query, to run inside `withSearchSettings`. */
export function similarChunksSelect(tx: Executor, query: SimilarChunkQuery) {
  return tx
    .select({
      id: knowledgeChunks.id,
      documentId: knowledgeChunks.documentId,
      content: knowledgeChunks.content,
      distance: sql<number>`${knowledgeChunks.embedding} <=> ${vectorSql(query.embedding)}`
        .mapWith(Number)
        .as('distance'),
    })
    .from(knowledgeChunks)
    .where(eq(knowledgeChunks.characterId, query.characterId))
    .orderBy(sql`distance`)
    .limit(query.limit);
}

/** Runs `work` in a transaction whose planner and HNSW settings are `settings`. */
export async function withSearchSettings<T>(
  db: Executor,
  settings: SearchSettings,
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  const efSearch = String(settings.efSearch);
  const operatorCost = String(settings.operatorCost);
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('hnsw.iterative_scan', 'strict_order', true),
                 set_config('hnsw.ef_search', ${efSearch}, true),
                 set_config('cpu_operator_cost', ${operatorCost}, true)`,
    );
    return work(tx);
  });
}

/**
 * The `limit` chunks of one character closest to `embedding` by cosine distance. The HNSW
 * index serves it for a character with more than a few hundred chunks (`DISTANCE_OPERATOR_COST`);
 * iterative scanning keeps the character filter from starving the result. A smaller
 * character's chunks are read and compared one by one, which is as fast and exact.
 * The query vector is sent once: turning 1536 numbers into a vector is not free.
 */
export async function findSimilarChunks(
  db: Executor,
  query: SimilarChunkQuery,
): Promise<SimilarChunk[]> {
  const settings = productSearchSettings(query.limit);
  const rows = await withSearchSettings(db, settings, (tx) => similarChunksSelect(tx, query));
  return similarAbove(rows, query.minSimilarity);
}

/** Rows of `similarChunksSelect` as similarities, those below `minSimilarity` dropped. */
export function similarAbove(
  rows: (Omit<SimilarChunk, 'similarity'> & { distance: number })[],
  minSimilarity = -1,
): SimilarChunk[] {
  return rows
    .map(({ distance: d, ...row }) => ({ ...row, similarity: 1 - d }))
    .filter((row) => row.similarity >= minSimilarity);
}

/**
 * Whether `findSimilarChunks` with this query would walk the HNSW index (or read and sort
 * the character's chunks), by EXPLAIN: the plan depends on the statistics, which tests and
 * the benchmark check.
 */
export async function usesVectorIndex(
  db: Executor,
  query: SimilarChunkQuery,
  settings = productSearchSettings(query.limit),
): Promise<boolean> {
  const result: unknown = await withSearchSettings(db, settings, (tx) =>
    tx.execute(sql`explain ${similarChunksSelect(tx, query).getSQL()}`),
  );
  // PGlite's driver answers { rows }, postgres.js an array of rows.
  const rows = Array.isArray(result) ? result : ((result as { rows: unknown[] }).rows ?? []);
  return rows.some((row) =>
    JSON.stringify(row).includes('Index Scan using knowledge_chunks_embedding_idx'),
  );
}

/**
 * Brings the planner's statistics on chunks up to date where nothing else will. Embedded
 * PGlite is a standalone backend: no autovacuum ever analyzes its tables, and without
 * statistics the planner guesses that a character holds 0.5% of the chunks, so one with
 * 10k chunks gets an exact scan (~170 ms) instead of the HNSW index (~10 ms). Only the
 * character column is sampled: it is what the choice depends on. A server (PostgreSQL,
 * Supabase) is left to its autovacuum. Returns whether it analyzed.
 */
export async function refreshChunkStatistics(db: Executor): Promise<boolean> {
  if (!(await isEmbeddedDatabase(db))) return false;
  await db.execute(sql`analyze knowledge_chunks (character_id)`);
  return true;
}

/**
 * Whether `db` is embedded PGlite (a standalone backend: one connection, no autovacuum)
 * rather than a PostgreSQL server with a pool of connections.
 */
export async function isEmbeddedDatabase(db: Executor): Promise<boolean> {
  const [backend] = await db
    .select({ type: sql<string>`backend_type` })
    .from(sql`pg_stat_activity`)
    .where(sql`pid = pg_backend_pid()`);
  return backend?.type === 'standalone backend';
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

/** How many of a character's documents are in each state. */
export type DocumentCounts = Record<KnowledgeDocument['status'], number>;

/** Document counts by state for each of `characterIds` (characters without any are absent). */
export async function documentCountsByCharacter(
  db: Executor,
  characterIds: string[],
): Promise<Map<string, DocumentCounts>> {
  const counts = new Map<string, DocumentCounts>();
  if (characterIds.length === 0) return counts;
  const rows = await db
    .select({
      characterId: knowledgeDocuments.characterId,
      status: knowledgeDocuments.status,
      count: sql<number>`count(*)::int`,
    })
    .from(knowledgeDocuments)
    .where(inArray(knowledgeDocuments.characterId, characterIds))
    .groupBy(knowledgeDocuments.characterId, knowledgeDocuments.status);
  for (const row of rows) {
    const entry = counts.get(row.characterId) ?? { pending: 0, ready: 0, failed: 0 };
    entry[row.status] = row.count;
    counts.set(row.characterId, entry);
  }
  return counts;
}

/** Pending documents, oldest first; `updatedBefore` skips ones whose ingestion may be running. */
export async function listPendingDocuments(
  db: Executor,
  params: { limit: number; updatedBefore?: Date },
): Promise<KnowledgeDocument[]> {
  const pending = eq(knowledgeDocuments.status, 'pending');
  return db
    .select()
    .from(knowledgeDocuments)
    .where(
      params.updatedBefore === undefined
        ? pending
        : and(pending, lt(knowledgeDocuments.updatedAt, params.updatedBefore)),
    )
    .orderBy(asc(knowledgeDocuments.updatedAt), asc(knowledgeDocuments.id))
    .limit(params.limit);
}

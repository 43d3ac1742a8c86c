import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import pLimit, { type LimitFunction } from 'p-limit';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type Executor, INGESTION_POOL_SIZE } from '../../db/client.js';
import {
  deleteDocumentChunks,
  insertDocumentChunks,
  isEmbeddedDatabase,
  markDocumentFailed,
  markDocumentReady,
  refreshChunkStatistics,
} from '../../db/queries/knowledge.js';
import type { KnowledgeDocument } from '../../db/schema.js';
import { type DocumentContentType, splitDocument } from './chunker.js';
import { DocumentWrites } from './document-writes.js';
import { EMBEDDING_BATCH_SIZE, type Embedder } from './embedder.js';
import { type TurnActivity, turnActivity } from './turn-activity.js';

export interface IngestDeps {
  db: Executor;
  embedder: Embedder;
  logger: Logger;
  /** Whether conversation turns are running; the process's {@link turnActivity} by default. */
  turns?: Pick<TurnActivity, 'active'>;
}

export interface IngestProgress {
  embedded: number;
  total: number;
}

/** How ingestion writes a document's chunks. */
export interface StorePlan {
  /** Chunks per INSERT statement. */
  rowsPerStatement: number;
  /** INSERT statements running at once against one database, all documents together. */
  statementsAtOnce: number;
  /** The same bound while conversation turns are active ({@link TurnActivity}). */
  statementsDuringTurns: number;
}

/**
 * Embedded PGlite: one connection, and an insert into a table with a vector index is
 * synchronous work on PGlite's thread (~10 ms a row at 1536 dimensions), which every other
 * statement waits behind: short statements, one at a time, so a chat turn waits for little.
 */
export const EMBEDDED_STORE_PLAN: StorePlan = {
  rowsPerStatement: 16,
  statementsAtOnce: 1,
  statementsDuringTurns: 1,
};

/**
 * A PostgreSQL server: pgvector inserting each row into the HNSW graph (~2-3 ms of CPU a
 * row) caps what one backend stores, so statements run on several pooled connections. Each
 * embedding batch goes in as two half-batch INSERTs, three at once: while one connection's
 * statement is being built, sent or committed, the other two keep both cores inserting, and
 * a 100-chunk document (one embedding batch) uses two connections too. Three, whatever the
 * number of documents being ingested: the rest of the pool stays free for conversations.
 * While turns are active, one: a database on two cores running three HNSW inserts left a
 * turn's own queries little CPU (BENCHMARKS.md, "Ingestion on PostgreSQL with the HNSW
 * index live").
 */
export const SERVER_STORE_PLAN: StorePlan = {
  rowsPerStatement: EMBEDDING_BATCH_SIZE / 2,
  // Ingestion's own connections (DatabaseHandle.ingestion): one statement on each.
  statementsAtOnce: INGESTION_POOL_SIZE,
  statementsDuringTurns: 1,
};

/** Each database's shared bound on ingestion statements; its size follows the plan and turns. */
const limitByDatabase = new WeakMap<Executor, LimitFunction>();

function limitFor(db: Executor): LimitFunction {
  const known = limitByDatabase.get(db);
  if (known !== undefined) return known;
  const limit = pLimit(1);
  limitByDatabase.set(db, limit);
  return limit;
}

/**
 * Sets the shared bound for the next statement: smaller while turns are active, and back to
 * the plan's once they are not (statements already running finish either way).
 */
function paceFor(limit: LimitFunction, plan: StorePlan, turns: Pick<TurnActivity, 'active'>) {
  const wanted = turns.active ? plan.statementsDuringTurns : plan.statementsAtOnce;
  if (limit.concurrency !== wanted) limit.concurrency = wanted;
}

/** The plan the product uses on `db`. */
export async function storePlanFor(db: Executor): Promise<StorePlan> {
  return (await isEmbeddedDatabase(db)) ? EMBEDDED_STORE_PLAN : SERVER_STORE_PLAN;
}

/**
 * Splits a document, then embeds its chunks batch by batch and stores each batch as it comes
 * (the next batch is embedded while the last is stored), in statements bounded by the
 * database's {@link StorePlan}, so a large document never stalls the server (and never holds
 * all its vectors in memory). The document stays `pending` until every chunk is stored, then
 * ends `ready`, or `failed` with the reason and no chunks (the error is rethrown). While a
 * document is ingested again, searches see part of it. Then the planner's statistics are
 * refreshed where no autovacuum does it (embedded PGlite), so the character's searches use
 * the vector index once it has many chunks. `plan` is for benchmarks comparing plans.
 */
export async function ingestDocument(
  deps: IngestDeps,
  document: KnowledgeDocument,
  onProgress?: (progress: IngestProgress) => void,
  plan?: StorePlan,
): Promise<{ chunks: number }> {
  const chosen = plan ?? (await storePlanFor(deps.db));
  const chunks = await storeChunks(deps, document, chosen, onProgress);
  // The chunks are stored either way: stale statistics make searches slower, not wrong.
  await refreshChunkStatistics(deps.db).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'chunk statistics not refreshed');
  });
  return { chunks };
}

async function storeChunks(
  deps: IngestDeps,
  document: KnowledgeDocument,
  plan: StorePlan,
  onProgress?: (progress: IngestProgress) => void,
): Promise<number> {
  const limit = limitFor(deps.db);
  const pace = () => paceFor(limit, plan, deps.turns ?? turnActivity);
  const writes = new DocumentWrites(limit);
  try {
    const texts = await splitDocument(
      document.content,
      document.contentType as DocumentContentType,
    );
    await deleteDocumentChunks(deps.db, document.id);
    onProgress?.({ embedded: 0, total: texts.length });
    for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
      const batch = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
      const vectors = await deps.embedder.embed(batch);
      const embedded = { firstIndex: start, batch, vectors };
      await startBatch({ writes, pace }, deps.db, document, plan, embedded);
      onProgress?.({ embedded: start + batch.length, total: texts.length });
    }
    await writes.finish();
    await markDocumentReady(deps.db, document.id, texts.length);
    deps.logger.info({ documentId: document.id, chunks: texts.length }, 'document ingested');
    return texts.length;
  } catch (error) {
    // Statements already running may still land rows: clean up after the last of them.
    await writes.settle();
    await deleteDocumentChunks(deps.db, document.id).catch(() => {});
    await markDocumentFailed(deps.db, document.id, reasonOf(error)).catch(() => {});
    throw error;
  }
}

/** What a failed document shows its owner: every step's error is short, without vectors. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts one embedded batch's statements of `plan.rowsPerStatement` chunks each, pacing the
 * shared bound before each.
 */
async function startBatch(
  { writes, pace }: { writes: DocumentWrites; pace: () => void },
  db: Executor,
  document: KnowledgeDocument,
  plan: StorePlan,
  embedded: { firstIndex: number; batch: string[]; vectors: number[][] },
): Promise<void> {
  const { firstIndex, batch, vectors } = embedded;
  for (let offset = 0; offset < batch.length; offset += plan.rowsPerStatement) {
    const chunks = batch
      .slice(offset, offset + plan.rowsPerStatement)
      .map((content, i) => ({ content, embedding: vectors[offset + i] ?? [] }));
    const params = {
      documentId: document.id,
      characterId: document.characterId,
      firstIndex: firstIndex + offset,
      chunks,
    };
    pace();
    await writes.start(() => storeStatement(db, params));
    // Embedded on the calling thread, a statement runs synchronously: serve the loop between.
    await yieldToLoop();
  }
}

/** One INSERT; a failure names the chunks and the database's own reason. */
async function storeStatement(
  db: Executor,
  params: Parameters<typeof insertDocumentChunks>[1],
): Promise<void> {
  try {
    await insertDocumentChunks(db, params);
  } catch (error) {
    const last = params.firstIndex + params.chunks.length - 1;
    // drizzle's error quotes the whole statement with every vector: keep only the cause.
    const cause = error instanceof DrizzleQueryError ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AppError(
      'INTERNAL',
      `Storing chunks ${params.firstIndex}-${last} failed: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

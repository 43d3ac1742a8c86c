import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import {
  deleteDocumentChunks,
  insertDocumentChunks,
  markDocumentFailed,
  markDocumentReady,
  refreshChunkStatistics,
} from '../../db/queries/knowledge.js';
import type { KnowledgeDocument } from '../../db/schema.js';
import { type DocumentContentType, splitDocument } from './chunker.js';
import { EMBEDDING_BATCH_SIZE, type Embedder } from './embedder.js';

export interface IngestDeps {
  db: Executor;
  embedder: Embedder;
  logger: Logger;
}

export interface IngestProgress {
  embedded: number;
  total: number;
}

/**
 * Chunks per INSERT while ingesting. On the embedded database an insert into a table with a
 * vector index is synchronous work on this thread (~8 ms a row at 384 dimensions, more at
 * 1536): small statements, with the event loop served between them, keep the server answering.
 */
const STORE_BATCH_SIZE = 16;

/**
 * Splits a document, then embeds its chunks batch by batch and stores each batch as it comes,
 * in short statements with the event loop served between them, so a large document never
 * stalls the server (and never holds all its vectors in memory). The document stays `pending`
 * until every chunk is stored, then ends `ready`, or `failed` with the reason and no chunks
 * (the error is rethrown). While a document is ingested again, searches see part of it.
 * Then the planner's statistics are refreshed where no autovacuum does it (embedded PGlite),
 * so the character's searches use the vector index once it has many chunks.
 */
export async function ingestDocument(
  deps: IngestDeps,
  document: KnowledgeDocument,
  onProgress?: (progress: IngestProgress) => void,
): Promise<{ chunks: number }> {
  const chunks = await storeChunks(deps, document, onProgress);
  // The chunks are stored either way: stale statistics make searches slower, not wrong.
  await refreshChunkStatistics(deps.db).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'chunk statistics not refreshed');
  });
  return { chunks };
}

async function storeChunks(
  deps: IngestDeps,
  document: KnowledgeDocument,
  onProgress?: (progress: IngestProgress) => void,
): Promise<number> {
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
      await storeBatch(deps.db, document, start, batch, vectors);
      onProgress?.({ embedded: start + batch.length, total: texts.length });
    }
    await markDocumentReady(deps.db, document.id, texts.length);
    deps.logger.info({ documentId: document.id, chunks: texts.length }, 'document ingested');
    return texts.length;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await deleteDocumentChunks(deps.db, document.id).catch(() => {});
    await markDocumentFailed(deps.db, document.id, reason).catch(() => {});
    throw error;
  }
}

/** Stores one embedded batch in {@link STORE_BATCH_SIZE} pieces, yielding after each. */
async function storeBatch(
  db: Executor,
  document: KnowledgeDocument,
  firstIndex: number,
  texts: string[],
  vectors: number[][],
): Promise<void> {
  for (let offset = 0; offset < texts.length; offset += STORE_BATCH_SIZE) {
    const chunks = texts
      .slice(offset, offset + STORE_BATCH_SIZE)
      .map((content, i) => ({ content, embedding: vectors[offset + i] ?? [] }));
    await insertDocumentChunks(db, {
      documentId: document.id,
      characterId: document.characterId,
      firstIndex: firstIndex + offset,
      chunks,
    });
    await yieldToLoop();
  }
}

import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import {
  markDocumentFailed,
  refreshChunkStatistics,
  replaceDocumentChunks,
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
 * Splits a document, embeds its chunks in batches and stores them in place of its old ones.
 * The document ends `ready`, or `failed` with the reason (the error is rethrown). Then the
 * planner's statistics are refreshed where no autovacuum does it (embedded PGlite), so the
 * character's searches use the vector index once it has many chunks.
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
    const embeddings = await embedWithProgress(deps.embedder, texts, onProgress);
    const chunks = texts.map((content, i) => ({ content, embedding: embeddings[i] ?? [] }));
    await replaceDocumentChunks(deps.db, {
      documentId: document.id,
      characterId: document.characterId,
      chunks,
    });
    deps.logger.info({ documentId: document.id, chunks: chunks.length }, 'document ingested');
    return chunks.length;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await markDocumentFailed(deps.db, document.id, reason).catch(() => {});
    throw error;
  }
}

async function embedWithProgress(
  embedder: Embedder,
  texts: string[],
  onProgress?: (progress: IngestProgress) => void,
): Promise<number[][]> {
  const vectors: number[][] = [];
  onProgress?.({ embedded: 0, total: texts.length });
  for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
    vectors.push(...(await embedder.embed(texts.slice(start, start + EMBEDDING_BATCH_SIZE))));
    onProgress?.({ embedded: vectors.length, total: texts.length });
  }
  return vectors;
}

/**
 * Documents that could not be embedded when they arrived (no embedding provider configured
 * yet, or the process stopped mid-ingestion) stay `pending`. This embeds them later: once at
 * start-up, then in a slow sweep, so no document stays `pending` for good while a provider is
 * configured. Ingestion itself is `ingestDocument` (ingest.ts); this only decides when.
 */
import pLimit from 'p-limit';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import { listPendingDocuments } from '../../db/queries/knowledge.js';
import type { KnowledgeDocument } from '../../db/schema.js';

export interface DeferredEmbeddingDeps {
  db: Executor;
  logger: Logger;
  /** Embeds one document and marks it `ready` or `failed` (the brain's `ingestDocument`). */
  ingest: (document: KnowledgeDocument) => Promise<void>;
}

export interface DeferredEmbeddingOptions {
  /** Between two sweeps. Default 5 minutes. */
  intervalMs?: number;
  /** A later sweep leaves documents alone that changed this recently (an upload in progress). */
  settleMs?: number;
}

/** Documents loaded per query. */
const PAGE = 20;
/**
 * Documents embedded at once. One 100-chunk document keeps at most two of ingestion's
 * statements busy and leaves the database idle between documents (237 chunks/s one after
 * another on PostgreSQL); several at once fill the shared statement bound, which alone
 * limits what ingestion takes from conversations (ingest.ts).
 */
export const DOCUMENTS_AT_ONCE = 3;
const DEFAULT_INTERVAL_MS = 5 * 60_000;

/**
 * Embeds every pending document last changed before `updatedBefore` (all when absent),
 * {@link DOCUMENTS_AT_ONCE} at a time, oldest first. A document that fails is marked `failed` by ingestion and not retried here;
 * each is tried at most once per call, so a failure that cannot be recorded cannot loop.
 * Returns how many were tried.
 */
export async function embedPendingDocuments(
  deps: DeferredEmbeddingDeps,
  updatedBefore?: Date,
): Promise<number> {
  const tried = new Set<string>();
  for (;;) {
    const query = updatedBefore === undefined ? { limit: PAGE } : { limit: PAGE, updatedBefore };
    const fresh = (await listPendingDocuments(deps.db, query)).filter((d) => !tried.has(d.id));
    if (fresh.length === 0) return tried.size;
    for (const document of fresh) tried.add(document.id);
    const results = await ingestAtOnce(fresh, deps.ingest);
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const documentId = fresh[i]?.id;
      deps.logger.warn({ err: result.reason, documentId }, 'deferred embedding failed');
    });
  }
}

/**
 * `ingest` on every document, {@link DOCUMENTS_AT_ONCE} at a time (the sweep's pace, and
 * `npm run ingest`'s): several documents keep ingestion's statement bound full where one
 * leaves the database idle between its batches. Every document is tried; the results are in
 * the documents' order.
 */
export function ingestAtOnce<T>(
  documents: readonly KnowledgeDocument[],
  ingest: (document: KnowledgeDocument) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const limit = pLimit(DOCUMENTS_AT_ONCE);
  return Promise.allSettled(documents.map((document) => limit(() => ingest(document))));
}

/** The running sweeps; `close()` stops them and waits for the one in progress. */
export interface DeferredEmbedding {
  /** Resolves when the sweep in progress (if any) has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Sweeps at once (every pending document), then every `intervalMs` (documents pending for
 * longer than `settleMs`). Only call it with an embedding provider configured.
 */
export function startDeferredEmbedding(
  deps: DeferredEmbeddingDeps,
  options: DeferredEmbeddingOptions = {},
): DeferredEmbedding {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const settleMs = options.settleMs ?? intervalMs;
  let running: Promise<void> = Promise.resolve();
  const sweep = (updatedBefore?: Date) => {
    running = running
      .then(() => embedPendingDocuments(deps, updatedBefore))
      .then((count) => {
        if (count > 0) deps.logger.info({ documents: count }, 'pending documents embedded');
      })
      .catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'pending documents not embedded; will retry');
      });
  };
  sweep();
  const timer = setInterval(() => sweep(new Date(Date.now() - settleMs)), intervalMs);
  timer.unref();
  return {
    idle: () => running,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}

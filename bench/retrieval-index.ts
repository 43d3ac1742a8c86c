/** The product's HNSW index, rebuilt after a bench's bulk load. */
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/client.js';

/** The index exactly as migration 0001 creates it. */
const CREATE_INDEX =
  'CREATE INDEX "knowledge_chunks_embedding_idx" ON "knowledge_chunks" USING hnsw ("embedding" vector_cosine_ops)';

/** Drops the HNSW index so a bulk load does not pay ~20 ms a row to keep it. */
export async function dropIndex(handle: DatabaseHandle): Promise<void> {
  await handle.db.execute(sql`drop index knowledge_chunks_embedding_idx`);
}

/** Recreates the index with the migration's definition; returns the build's wall time in ms. */
export async function buildIndex(handle: DatabaseHandle): Promise<number> {
  const started = performance.now();
  // The graph must fit in maintenance_work_mem or pgvector builds it row by row, on disk. In
  // one transaction, so a pooled driver runs the setting and the build on one connection.
  await handle.db.transaction(async (tx) => {
    await tx.execute(sql`set local maintenance_work_mem = '1GB'`);
    await tx.execute(sql.raw(CREATE_INDEX));
  });
  return performance.now() - started;
}

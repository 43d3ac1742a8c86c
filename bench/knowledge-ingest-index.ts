/**
 * The `ingest` section's HNSW build parameters (m, ef_construction): each rebuilt empty,
 * filled through the product's ingestion, then searched with the product's query, so the
 * ingestion rate a cheaper graph buys is seen beside the recall it costs.
 */
import { sql } from 'drizzle-orm';
import { SERVER_STORE_PLAN } from '../agent/knowledge/ingest.js';
import { findSimilarChunks, usesVectorIndex } from '../db/queries/knowledge.js';
import { freshCharacter, prepare, progress, runRows } from './knowledge-ingest-run.js';
import type { Store } from './knowledge-store.js';
import type { ResultRow } from './report.js';
import type { EmulatedEmbedder } from './retrieval-corpus.js';
import { fmt, p50p95, summarize } from './stats.js';

const TOP_K = 5;

export interface IndexVariants {
  /** Chunks each index variant ingests, then searches. */
  indexChunks: number;
  /** HNSW build parameters to compare; the first is the migration's (pgvector's defaults). */
  indexes: { m: number; efConstruction: number }[];
  queries: number;
}

async function rebuildIndex(store: Store, m: number, efConstruction: number): Promise<void> {
  await store.handle.db.execute(sql`drop index if exists knowledge_chunks_embedding_idx`);
  await store.handle.db.execute(
    sql.raw(
      'CREATE INDEX "knowledge_chunks_embedding_idx" ON "knowledge_chunks" USING hnsw ' +
        `("embedding" vector_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`,
    ),
  );
}

async function searchQuality(
  store: Store,
  characterId: string,
  embedder: EmulatedEmbedder,
  queries: number,
) {
  const db = store.handle.db;
  const probe = { characterId, embedding: embedder.queryVector(), limit: TOP_K };
  const indexed = await usesVectorIndex(db, probe);
  const wallMs: number[] = [];
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const embedding = embedder.queryVector();
    const started = performance.now();
    const found = await findSimilarChunks(db, { characterId, embedding, limit: TOP_K });
    wallMs.push(performance.now() - started);
    const exact = new Set(embedder.exactTopK(embedding, TOP_K));
    hits += found.filter((chunk) => exact.has(chunk.content)).length;
  }
  return { indexed, recall: hits / (queries * TOP_K), wall: summarize(wallMs) };
}

/** Each build's ingestion rate, CPU, and the product search's recall@5 and latency on it. */
export async function measureIndexes(store: Store, options: IndexVariants): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const [i, { m, efConstruction }] of options.indexes.entries()) {
    const label = `HNSW m ${m}, ef_construction ${efConstruction}${i === 0 ? ' (migration)' : ''}, ${options.indexChunks / 1000}k chunks, product plan`;
    progress(label);
    const setup = await freshCharacter(store, options.indexChunks);
    await rebuildIndex(store, m, efConstruction);
    const plan = { ...setup, plan: SERVER_STORE_PLAN };
    const start = await prepare(store, plan, options.indexChunks, { atOnce: 1 });
    const run = await start();
    await store.handle.db.execute(sql`analyze knowledge_chunks`);
    const quality = await searchQuality(store, setup.characterId, setup.embedder, options.queries);
    rows.push(...runRows(label, [run], false), {
      metric: `${label}: recall@5 vs exact / top-5 latency p50 / p95 (${options.queries} queries${quality.indexed ? '' : ', NOT through the index'})`,
      value: `${fmt(quality.recall, 3)} / ${p50p95(quality.wall, 'ms')}`,
    });
  }
  return rows;
}

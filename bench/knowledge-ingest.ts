/**
 * Issue 15 item 4, ingestion on PostgreSQL with the HNSW index live: the levers side by side
 * in one run. Store plans (rows per INSERT, statements at once) on one large document and on
 * several documents at once, then HNSW build parameters (m, ef_construction), each with its
 * ingestion rate and recall@5 of the product's search on what it ingested. The product uses
 * `SERVER_STORE_PLAN` and the migration's index; everything else here is a variant.
 */
import { sql } from 'drizzle-orm';
import {
  EMBEDDED_STORE_PLAN,
  ingestDocument,
  SERVER_STORE_PLAN,
  type StorePlan,
} from '../agent/knowledge/ingest.js';
import { createLogger } from '../core/logger.js';
import { createDocument, findSimilarChunks, usesVectorIndex } from '../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS } from '../db/schema.js';
import { makeCharacter, makeUser } from '../tests/helpers/fixtures.js';
import { openStore, type Store } from './knowledge-store.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { CHUNKS_PER_DOCUMENT, documentText, EmulatedEmbedder } from './retrieval-corpus.js';
import { fmt, p50p95, summarize } from './stats.js';

export interface IngestBenchOptions {
  /** Chunks each store-plan variant ingests. */
  planChunks: number;
  /** Documents ingested at once in the "several documents" variant. */
  documentsAtOnce: number;
  /** Chunks each index variant ingests, then searches. */
  indexChunks: number;
  /** HNSW build parameters to compare; the first is the migration's (pgvector's defaults). */
  indexes: { m: number; efConstruction: number }[];
  queries: number;
}

export const DEFAULT_INGEST_BENCH: IngestBenchOptions = {
  planChunks: 3_000,
  documentsAtOnce: 3,
  indexChunks: 10_000,
  indexes: [
    { m: 16, efConstruction: 64 },
    { m: 16, efConstruction: 32 },
    { m: 12, efConstruction: 40 },
  ],
  queries: 200,
};

const TOP_K = 5;
const silent = createLogger({ level: 'silent' });

interface Run {
  rate: number;
  clientMsPerChunk: number;
  serverMsPerChunk: number;
}

/** One document of `chunks` paragraphs (each a chunk of its own), from paragraph `first`. */
function largeDocumentText(first: number, chunks: number): string {
  const parts: string[] = [];
  for (let at = first; at < first + chunks; at += CHUNKS_PER_DOCUMENT) {
    parts.push(documentText(at));
  }
  return parts.join('\n\n');
}

/** Ingests `documents` documents of `chunks / documents` chunks each, all at once. */
async function ingestAtOnce(
  store: Store,
  setup: { characterId: string; embedder: EmulatedEmbedder; plan: StorePlan },
  chunks: number,
  documents: number,
): Promise<Run> {
  const db = store.handle.db;
  const deps = { db, embedder: setup.embedder, logger: silent };
  const each = chunks / documents;
  const first = setup.embedder.embedded;
  const created = await Promise.all(
    Array.from({ length: documents }, (_, i) =>
      createDocument(db, {
        characterId: setup.characterId,
        title: `Handbook ${first + i * each}`,
        contentType: 'text/plain',
        content: largeDocumentText(first + i * each, each),
      }),
    ),
  );
  const started = performance.now();
  const cpu = process.cpuUsage();
  const server = await store.serverCpuMs();
  const stored = await Promise.all(
    created.map((document) => ingestDocument(deps, document, undefined, setup.plan)),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const serverMs = (await store.serverCpuMs()) - server;
  const total = stored.reduce((sum, { chunks: n }) => sum + n, 0);
  if (total !== chunks) throw new Error(`stored ${total} chunks, expected ${chunks}`);
  return {
    rate: total / seconds,
    clientMsPerChunk: (used.user + used.system) / 1000 / total,
    serverMsPerChunk: serverMs / total,
  };
}

async function freshCharacter(store: Store, capacity: number) {
  const db = store.handle.db;
  // Every variant starts from an empty graph: HNSW inserts cost more as the graph grows.
  await db.execute(sql`truncate knowledge_chunks`);
  const character = await makeCharacter(db, await makeUser(db));
  const embedder = new EmulatedEmbedder({ dims: EMBEDDING_DIMENSIONS, seed: 7, capacity });
  return { characterId: character.id, embedder };
}

function runRows(label: string, run: Run, judged: boolean): ResultRow[] {
  return [
    {
      metric: `${label}: ingestion rate, index live`,
      value: `${fmt(run.rate)} chunks/s`,
      ...(judged ? { target: '>= 500 chunks/s', met: run.rate >= 500 } : {}),
    },
    {
      metric: `${label}: CPU per chunk, bench process / PostgreSQL`,
      value: `${fmt(run.clientMsPerChunk)} / ${fmt(run.serverMsPerChunk)} ms`,
    },
  ];
}

function planLabel(plan: StorePlan, documents: number): string {
  const what = documents === 1 ? 'one document' : `${documents} documents at once`;
  const statements =
    plan.statementsAtOnce === 1 ? '1 at a time' : `${plan.statementsAtOnce} at once`;
  return `${what}, ${plan.rowsPerStatement} rows per INSERT, ${statements}`;
}

async function measurePlans(store: Store, options: IngestBenchOptions): Promise<ResultRow[]> {
  const variants: { plan: StorePlan; documents: number; note: string }[] = [
    { plan: EMBEDDED_STORE_PLAN, documents: 1, note: 'before' },
    {
      plan: { ...EMBEDDED_STORE_PLAN, rowsPerStatement: SERVER_STORE_PLAN.rowsPerStatement },
      documents: 1,
      note: 'one INSERT per embedding batch',
    },
    { plan: SERVER_STORE_PLAN, documents: 1, note: 'product' },
    { plan: SERVER_STORE_PLAN, documents: options.documentsAtOnce, note: 'product' },
  ];
  const rows: ResultRow[] = [];
  for (const variant of variants) {
    const label = `${planLabel(variant.plan, variant.documents)} (${variant.note})`;
    progress(label);
    const setup = await freshCharacter(store, options.planChunks);
    const run = await ingestAtOnce(
      store,
      { ...setup, plan: variant.plan },
      options.planChunks,
      variant.documents,
    );
    rows.push(...runRows(label, run, variant.note === 'product'));
  }
  return rows;
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

async function measureIndexes(store: Store, options: IngestBenchOptions): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const [i, { m, efConstruction }] of options.indexes.entries()) {
    const label = `HNSW m ${m}, ef_construction ${efConstruction}${i === 0 ? ' (migration)' : ''}, ${options.indexChunks / 1000}k chunks, product plan`;
    progress(label);
    const setup = await freshCharacter(store, options.indexChunks);
    await rebuildIndex(store, m, efConstruction);
    const run = await ingestAtOnce(
      store,
      { ...setup, plan: SERVER_STORE_PLAN },
      options.indexChunks,
      1,
    );
    await store.handle.db.execute(sql`analyze knowledge_chunks`);
    const quality = await searchQuality(store, setup.characterId, setup.embedder, options.queries);
    rows.push(...runRows(label, run, false), {
      metric: `${label}: recall@5 vs exact / top-5 latency p50 / p95 (${options.queries} queries${quality.indexed ? '' : ', NOT through the index'})`,
      value: `${fmt(quality.recall, 3)} / ${p50p95(quality.wall, 'ms')}`,
    });
  }
  return rows;
}

function progress(message: string): void {
  process.stderr.write(`bench: ingest: ${message}\n`);
}

/** Runs the ingestion-levers section on a throwaway PostgreSQL. */
export async function runIngestBench(options = DEFAULT_INGEST_BENCH): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const store = await openStore('postgres');
  const rows: ResultRow[] = [];
  if ('missing' in store) {
    rows.push({ metric: 'PostgreSQL: not measured', value: store.missing });
  } else {
    try {
      rows.push(...(await measurePlans(store, options)), ...(await measureIndexes(store, options)));
    } finally {
      await store.close();
    }
  }
  return {
    name: 'ingest',
    title: 'Ingestion on PostgreSQL with the HNSW index live: the levers side by side',
    rows,
    notes: ingestNotes(options),
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}

function ingestNotes(options: IngestBenchOptions): string[] {
  return [
    "A throwaway PostgreSQL 15 with pgvector 0.8.6 on this machine (initdb defaults, fsync on), postgres.js over loopback, pool of 10. Each variant starts from an empty `knowledge_chunks` (TRUNCATE) and ingests through the product's `ingestDocument` (splitter, an emulated embedder answering at once, the statistics refresh) with the HNSW index live; only the store plan or the index differs.",
    `Store plans: ${options.planChunks} chunks as one large document, then as ${options.documentsAtOnce} documents ingested at once. "Statements at once" is shared by every document on one database: ${options.documentsAtOnce} documents together still use at most that many connections.`,
    `Index variants: the index is rebuilt empty with the given m and ef_construction, ${options.indexChunks} chunks ingested with the product's plan, then ${options.queries} \`findSimilarChunks\` top-5 calls (ef_search 64) against brute-force cosine in JS.`,
    'CPU per chunk: the bench process (splitter, embedder stand-in, SQL building) and every PostgreSQL process (/proc), over the chunks stored; rates are wall time on a 2-core machine both share.',
  ];
}

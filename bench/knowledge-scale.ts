/**
 * Issue 15 item 4: ingestion and retrieval at size, embedded PGlite and PostgreSQL side by
 * side in one run. For each store: the product's ingestion (`ingestDocument`) with the HNSW
 * index live, and the main thread's event-loop delay meanwhile; then a bulk load with the
 * index dropped and rebuilt (as `retrieval` does), and `findSimilarChunks` latency and
 * recall@5 against exact search at each size.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { splitDocument } from '../agent/knowledge/chunker.js';
import {
  EMBEDDED_STORE_PLAN,
  ingestDocument,
  SERVER_STORE_PLAN,
} from '../agent/knowledge/ingest.js';
import { createLogger } from '../core/logger.js';
import { createDocument, defaultEfSearch, findSimilarChunks } from '../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS, type KnowledgeDocument } from '../db/schema.js';
import { makeCharacter, makeUser } from '../tests/helpers/fixtures.js';
import { sweepEfSearch, sweepQueries, timeQueries } from './knowledge-ef-sweep.js';
import { openStore, type Store, type StoreKind } from './knowledge-store.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { CHUNKS_PER_DOCUMENT, documentText, EmulatedEmbedder } from './retrieval-corpus.js';
import { buildIndex, dropIndex } from './retrieval-index.js';
import { fmt, p50p95 } from './stats.js';

export interface KnowledgeScaleOptions {
  /** Chunks ingested with the index live, per store. */
  liveChunks: Record<StoreKind, number>;
  /** Sizes to query at, ascending, per store (none: ingestion only). */
  sizes: Record<StoreKind, number[]>;
  queries: number;
  /** ef_search values swept at each size, the product's among them. */
  efSearch: number[];
  /** Index builds at each size, each swept: the build is not deterministic. */
  builds: number;
}

/**
 * The sizes: 10k and 100k chunks on PostgreSQL beside 10k on PGlite (its own
 * thread), in one run (~8 minutes on the 2-core machine when it is quiet).
 */
export const DEFAULT_KNOWLEDGE_SCALE: KnowledgeScaleOptions = {
  liveChunks: { pglite: 300, 'pglite-main-thread': 200, postgres: 2_000 },
  sizes: { pglite: [10_000], 'pglite-main-thread': [], postgres: [10_000, 100_000] },
  queries: 200,
  efSearch: [64, 100, 128, 160],
  builds: 2,
};

const TOP_K = 5;
const WARMUP_QUERIES = 20;
const LABELS: Record<StoreKind, string> = {
  pglite: 'PGlite (own thread)',
  'pglite-main-thread': 'PGlite on the main thread (before)',
  postgres: 'PostgreSQL 15',
};

interface Corpus {
  store: Store;
  embedder: EmulatedEmbedder;
  characterId: string;
  loaded: number;
}

/**
 * Ingests 100-chunk documents through the product's use case up to `target` chunks. The
 * documents are created and their vectors computed first (the stand-in embedder works on
 * this thread, a provider elsewhere), so the clock and the event-loop delay cover ingestion.
 */
async function ingestUpTo(corpus: Corpus, target: number) {
  const db = corpus.store.handle.db;
  const deps = {
    db: corpus.store.handle.ingestion,
    embedder: corpus.embedder,
    logger: createLogger({ level: 'silent' }),
  };
  const documents: KnowledgeDocument[] = [];
  for (let at = corpus.loaded; at < target; at += CHUNKS_PER_DOCUMENT) {
    const document = await createDocument(db, {
      characterId: corpus.characterId,
      title: `Handbook page ${at / CHUNKS_PER_DOCUMENT}`,
      contentType: 'text/plain',
      content: documentText(at),
    });
    await corpus.embedder.embed(await splitDocument(document.content, 'text/plain'));
    documents.push(document);
  }
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const serverBefore = await corpus.store.serverCpuMs();
  const first = corpus.loaded;
  for (const document of documents) {
    corpus.loaded += (await ingestDocument(deps, document)).chunks;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverMs = (await corpus.store.serverCpuMs()) - serverBefore;
  loop.disable();
  const chunks = corpus.loaded - first;
  return {
    rate: chunks / seconds,
    cpuMsPerChunk: ((cpu.user + cpu.system) / 1000 + serverMs) / chunks,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
  };
}

async function queryAtSize(corpus: Corpus, count: number) {
  const db = corpus.store.handle.db;
  const search = (embedding: number[]) =>
    findSimilarChunks(db, { characterId: corpus.characterId, embedding, limit: TOP_K });
  const warmup = Array.from({ length: WARMUP_QUERIES }, () => corpus.embedder.queryVector());
  return timeQueries(search, sweepQueries(corpus.embedder, count), warmup);
}

/** CPU per chunk, bench process and database server together, and the rate one core gives. */
function cpuRow(what: string, msPerChunk: number): ResultRow {
  return {
    metric: `${what}: CPU per chunk (bench process with PGlite's thread, plus PostgreSQL's processes)`,
    value: `${fmt(msPerChunk)} ms = ${fmt(1000 / msPerChunk)} chunks/s per core`,
  };
}

function progress(message: string): void {
  process.stderr.write(`bench: knowledge: ${message}\n`);
}

async function measureStore(kind: StoreKind, options: KnowledgeScaleOptions) {
  const label = LABELS[kind];
  const store = await openStore(kind);
  if ('missing' in store) return [{ metric: `${label}: not measured`, value: store.missing }];
  try {
    const owner = await makeUser(store.handle.db);
    const character = await makeCharacter(store.handle.db, owner);
    const sizes = options.sizes[kind];
    const capacity = Math.max(options.liveChunks[kind], ...sizes);
    const embedder = new EmulatedEmbedder({ dims: EMBEDDING_DIMENSIONS, seed: 7, capacity });
    const corpus: Corpus = { store, embedder, characterId: character.id, loaded: 0 };
    progress(`${label}: ingesting with the index live`);
    const live = await ingestUpTo(corpus, options.liveChunks[kind]);
    const rows: ResultRow[] = [
      {
        metric: `${label}: ingestion, HNSW index live (product path, ${options.liveChunks[kind]} chunks)`,
        value: `${fmt(live.rate)} chunks/s`,
        ...(kind === 'postgres' ? { target: '>= 500 chunks/s', met: live.rate >= 500 } : {}),
      },
      cpuRow(`${label}: ingestion, index live`, live.cpuMsPerChunk),
      {
        metric: `${label}: event-loop delay p99 / max during that ingestion`,
        value: `${fmt(live.loopP99Ms)} / ${fmt(live.loopMaxMs)} ms`,
      },
    ];
    for (const size of sizes) rows.push(...(await measureSize(corpus, size, options)));
    return rows;
  } finally {
    await store.close();
  }
}

async function measureSize(corpus: Corpus, size: number, options: KnowledgeScaleOptions) {
  const label = `${LABELS[corpus.store.kind]}, ${size / 1000}k chunks`;
  progress(`${label}: loading`);
  await dropIndex(corpus.store.handle);
  const bulk = await ingestUpTo(corpus, size);
  const queries = sweepQueries(corpus.embedder, options.queries);
  const rows: ResultRow[] = [
    { metric: `${label}: ingestion, index dropped (bulk)`, value: `${fmt(bulk.rate)} chunks/s` },
    cpuRow(`${label}: ingestion, index dropped`, bulk.cpuMsPerChunk),
  ];
  for (let build = 1; build <= options.builds; build++) {
    const built = `${label}, build ${build}`;
    progress(`${built}: building the index`);
    if (build > 1) await dropIndex(corpus.store.handle);
    const buildMs = await buildIndex(corpus.store.handle);
    // PostgreSQL's autovacuum analyzes in its own time; PGlite's ingestion already did.
    await corpus.store.handle.db.execute(sql`analyze knowledge_chunks`);
    progress(`${built}: querying`);
    const { wall, recall } = await queryAtSize(corpus, options.queries);
    rows.push(
      { metric: `${built}: HNSW index build`, value: `${fmt(buildMs / 1000)} s` },
      {
        metric: `${built}: top-5 latency p50 / p95, findSimilarChunks (${options.queries} queries)`,
        value: p50p95(wall, 'ms'),
        ...(size === 10_000 ? { target: 'p95 <= 15 ms', met: wall.p95 <= 15 } : {}),
      },
      {
        metric: `${built}: recall@5 vs exact, findSimilarChunks`,
        value: fmt(recall, 3),
        target: '>= 0.95',
        met: recall >= 0.95,
      },
      ...(await sweepEfSearch(corpus.store, corpus.characterId, queries, {
        efSearch: options.efSearch,
        label: built,
      })),
    );
  }
  return rows;
}

/** Runs the knowledge-at-size section: PGlite (thread, then main thread), then PostgreSQL. */
export async function runKnowledgeScale(options = DEFAULT_KNOWLEDGE_SCALE): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const rows: ResultRow[] = [];
  for (const kind of ['pglite', 'pglite-main-thread', 'postgres'] as const) {
    rows.push(...(await measureStore(kind, options)));
  }
  return {
    name: 'knowledge',
    title: 'Ingestion and retrieval at size (PGlite and PostgreSQL, 1536 dimensions)',
    rows,
    notes: knowledgeNotes(options),
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}

function knowledgeNotes(options: KnowledgeScaleOptions): string[] {
  return [
    `Each store gets one character and ${CHUNKS_PER_DOCUMENT}-chunk plain-text documents ` +
      "through the product's `ingestDocument` (splitter, emulated embedder answering at once, " +
      `its store plan: ${EMBEDDED_STORE_PLAN.rowsPerStatement}-row INSERTs ${EMBEDDED_STORE_PLAN.statementsAtOnce} at a time on PGlite, ` +
      `${SERVER_STORE_PLAN.rowsPerStatement}-row INSERTs ${SERVER_STORE_PLAN.statementsAtOnce} at a time on PostgreSQL; ` +
      'the statistics refresh). The same corpus and query vectors as the ' +
      '`retrieval` section (bench/retrieval-corpus.ts); recall@5 against brute-force cosine in JS.',
    `Live ingestion: the first ${options.liveChunks.pglite} (PGlite), ` +
      `${options.liveChunks['pglite-main-thread']} (PGlite on the main thread) and ` +
      `${options.liveChunks.postgres} (PostgreSQL) chunks go in with the HNSW index live, as ` +
      "an upload does; meanwhile perf_hooks' monitorEventLoopDelay (10 ms resolution) records " +
      "the bench process's main-thread delay: what a WebSocket frame or an audio packet would wait.",
    'At each size the index is dropped, the rest loaded, the index rebuilt with the ' +
      "migration's definition (maintenance_work_mem 1GB) and the table analyzed; then " +
      `${WARMUP_QUERIES} warm-up and ${options.queries} timed \`findSimilarChunks\` calls (wall time, ` +
      `the product's ef_search ${defaultEfSearch(TOP_K)}), then the same query under each swept ef_search (${options.efSearch.join(', ')}; one fixed set of ${options.queries} query vectors, after ${WARMUP_QUERIES} warm-up calls). The index is built ${options.builds} times at each size (dropped and rebuilt between: a build is not deterministic). ` +
      'PostgreSQL is a throwaway cluster on this machine (initdb defaults, ' +
      'fsync on), reached over loopback TCP with postgres.js, pool of 10.',
  ];
}

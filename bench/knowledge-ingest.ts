/**
 * Issue 15 item 4, ingestion on PostgreSQL with the HNSW index live: the levers side by side
 * in one run. Store plans (rows per INSERT, statements at once) on one large document and on
 * several documents at once, then HNSW build parameters (m, ef_construction), each with its
 * ingestion rate and recall@5 of the product's search on what it ingested. The product uses
 * `SERVER_STORE_PLAN` and the migration's index; everything else here is a variant.
 */
import { sql } from 'drizzle-orm';
import { splitDocument } from '../agent/knowledge/chunker.js';
import { ingestDocument, SERVER_STORE_PLAN, type StorePlan } from '../agent/knowledge/ingest.js';
import { createLogger } from '../core/logger.js';
import { createDocument, findSimilarChunks, usesVectorIndex } from '../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS } from '../db/schema.js';
import { makeCharacter, makeUser } from '../tests/helpers/fixtures.js';
import { probeTurns } from './ingest-probe.js';
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
  /** Text turns measured with nothing ingesting, for contrast with those beside an ingestion. */
  probeTurns: number;
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
  probeTurns: 50,
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

/** How a variant's chunks arrive: as documents ingested at once, or one after another. */
type Layout = { atOnce: number } | { oneAfterAnother: number };

interface Variant {
  label: string;
  plan: StorePlan;
  layout: Layout;
  /** Server settings for this variant only (ALTER SYSTEM, reloaded), as a DBA would set them. */
  settings?: Record<string, string>;
  /** Runs a text turn's database work beside the ingestion and reports it. */
  probe?: boolean;
}

/** The documents of a layout: their first chunk's serial and their size. */
function documentsOf(layout: Layout, chunks: number, first: number) {
  const size = 'atOnce' in layout ? chunks / layout.atOnce : layout.oneAfterAnother;
  return Array.from({ length: chunks / size }, (_, i) => ({ first: first + i * size, size }));
}

/**
 * Creates the documents of `chunks` chunks laid out as `layout` and returns the ingestion
 * with `plan`, ready to start: what it measures begins when it is called.
 */
async function prepare(
  store: Store,
  setup: { characterId: string; embedder: EmulatedEmbedder; plan: StorePlan },
  chunks: number,
  layout: Layout,
): Promise<() => Promise<Run>> {
  const db = store.handle.db;
  const deps = { db, embedder: setup.embedder, logger: silent };
  const parts = documentsOf(layout, chunks, setup.embedder.embedded);
  const created = await Promise.all(
    parts.map(({ first, size }) =>
      createDocument(db, {
        characterId: setup.characterId,
        title: `Handbook ${first}`,
        contentType: 'text/plain',
        content: largeDocumentText(first, size),
      }),
    ),
  );
  // The stand-in computes a vector the first time it sees a text (~0.5 ms, on this thread),
  // which a provider does over the network: compute them all before the clock starts.
  for (const document of created) {
    await setup.embedder.embed(await splitDocument(document.content, 'text/plain'));
  }
  const one = (document: (typeof created)[number]) =>
    ingestDocument(deps, document, undefined, setup.plan);
  return async () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const server = await store.serverCpuMs();
    let total = 0;
    if ('atOnce' in layout) {
      total = (await Promise.all(created.map(one))).reduce((sum, { chunks: n }) => sum + n, 0);
    } else {
      for (const document of created) total += (await one(document)).chunks;
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const serverMs = (await store.serverCpuMs()) - server;
    if (total !== chunks) throw new Error(`stored ${total} chunks, expected ${chunks}`);
    return {
      rate: total / seconds,
      clientMsPerChunk: (used.user + used.system) / 1000 / total,
      serverMsPerChunk: serverMs / total,
    };
  };
}

async function freshCharacter(store: Store, capacity: number) {
  const db = store.handle.db;
  // Every variant starts from an empty graph (HNSW inserts cost more as the graph grows) and
  // a checkpoint (the first change to each page after one writes the whole page to the WAL).
  await db.execute(sql`truncate knowledge_chunks`);
  await db.execute(sql`checkpoint`);
  const character = await makeCharacter(db, await makeUser(db));
  const embedder = new EmulatedEmbedder({ dims: EMBEDDING_DIMENSIONS, seed: 7, capacity });
  return { characterId: character.id, embedder };
}

/** Rows for one variant's runs (one per pass): their mean, each pass in brackets. */
function runRows(label: string, runs: Run[], judged: boolean): ResultRow[] {
  const mean = (pick: (run: Run) => number) =>
    runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const rate = mean((run) => run.rate);
  const each = runs.length > 1 ? ` (${runs.map((run) => fmt(run.rate)).join(', ')})` : '';
  return [
    {
      metric: `${label}: ingestion rate, index live`,
      value: `${fmt(rate)} chunks/s${each}`,
      ...(judged ? { target: '>= 500 chunks/s', met: rate >= 500 } : {}),
    },
    {
      metric: `${label}: CPU per chunk, bench process / PostgreSQL`,
      value: `${fmt(mean((run) => run.clientMsPerChunk))} / ${fmt(mean((run) => run.serverMsPerChunk))} ms`,
    },
  ];
}

function isProduct(plan: StorePlan): boolean {
  return (
    plan.rowsPerStatement === SERVER_STORE_PLAN.rowsPerStatement &&
    plan.statementsAtOnce === SERVER_STORE_PLAN.statementsAtOnce
  );
}

function variantLabel(variant: Variant): string {
  const { plan, layout } = variant;
  const what =
    'atOnce' in layout
      ? layout.atOnce === 1
        ? 'one document'
        : `${layout.atOnce} documents at once`
      : `${layout.oneAfterAnother}-chunk documents one after another`;
  const product = isProduct(plan) && variant.label === '' ? ' (product)' : '';
  return `${what}, ${plan.rowsPerStatement} rows x ${plan.statementsAtOnce} at once${product}${variant.label}`;
}

/**
 * The levers: rows per INSERT and statements at once on one large document; the product's
 * plan on several documents and on small ones; server settings beside the product's plan.
 */
function planVariants(options: IngestBenchOptions): Variant[] {
  const one = { atOnce: 1 };
  const plan = (rowsPerStatement: number, statementsAtOnce: number) => ({
    rowsPerStatement,
    statementsAtOnce,
  });
  return [
    { label: ' (before)', plan: plan(96, 2), layout: one },
    { label: '', plan: plan(48, 2), layout: one },
    { label: '', plan: plan(96, 3), layout: one },
    { label: '', plan: plan(48, 3), layout: one },
    { label: '', plan: plan(32, 3), layout: one },
    { label: '', plan: plan(48, 4), layout: one },
    { label: '', plan: SERVER_STORE_PLAN, layout: { atOnce: options.documentsAtOnce } },
    { label: '', plan: SERVER_STORE_PLAN, layout: { oneAfterAnother: CHUNKS_PER_DOCUMENT } },
    { label: ' (before)', plan: plan(96, 2), layout: { oneAfterAnother: CHUNKS_PER_DOCUMENT } },
    {
      label: ', synchronous_commit off',
      plan: SERVER_STORE_PLAN,
      layout: one,
      settings: { synchronous_commit: 'off' },
    },
    {
      label: ', maintenance_work_mem 1GB',
      plan: SERVER_STORE_PLAN,
      layout: one,
      settings: { maintenance_work_mem: '1GB' },
    },
    {
      label: ', wal_compression on',
      plan: SERVER_STORE_PLAN,
      layout: one,
      settings: { wal_compression: 'on' },
    },
  ];
}

/** Sets (or, with `reset`, resets) server-wide settings and waits for backends to take them. */
async function applySettings(store: Store, settings: Record<string, string>, reset = false) {
  const db = store.handle.db;
  for (const [name, value] of Object.entries(settings)) {
    // Names and values come from this file, never from input.
    const statement = reset
      ? `alter system reset ${name}`
      : `alter system set ${name} = '${value}'`;
    await db.execute(sql.raw(statement));
  }
  await db.execute(sql`select pg_reload_conf()`);
  // Backends re-read the configuration at their next command after the signal.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** One ingestion of a variant from an empty table, with its server settings in force. */
async function runVariant(store: Store, variant: Variant, options: IngestBenchOptions) {
  progress(variantLabel(variant));
  const setup = await freshCharacter(store, options.planChunks + options.probeTurns);
  const start = await prepare(
    store,
    { ...setup, plan: variant.plan },
    options.planChunks,
    variant.layout,
  );
  if (variant.settings !== undefined) await applySettings(store, variant.settings);
  try {
    if (variant.probe !== true) return { run: await start() };
    const search = {
      characterId: setup.characterId,
      embedding: () => setup.embedder.queryVector(),
    };
    const ingesting = start();
    const during = await probeTurns(store.handle.db, search, ingesting);
    const run = await ingesting;
    const idle = await probeTurns(store.handle.db, search, { turns: options.probeTurns });
    return { run, during, idle };
  } finally {
    if (variant.settings !== undefined) await applySettings(store, variant.settings, true);
  }
}

/**
 * Every variant twice, the second pass in reverse order, so a machine whose load drifts
 * during the run favours no variant; then the product's plan with text turns beside it.
 */
async function measurePlans(store: Store, options: IngestBenchOptions): Promise<ResultRow[]> {
  const variants = planVariants(options);
  const runs = new Map<Variant, Run[]>(variants.map((variant) => [variant, []]));
  for (const pass of [variants, [...variants].reverse()]) {
    for (const variant of pass)
      runs.get(variant)?.push((await runVariant(store, variant, options)).run);
  }
  const rows = variants.flatMap((variant) =>
    runRows(variantLabel(variant), runs.get(variant) ?? [], isJudged(variant)),
  );
  const probed: Variant = {
    label: ', a text turn every 100 ms beside it',
    plan: SERVER_STORE_PLAN,
    layout: { atOnce: 1 },
    probe: true,
  };
  const label = variantLabel(probed);
  const { run, during, idle } = await runVariant(store, probed, options);
  if (during === undefined || idle === undefined) return rows;
  return [
    ...rows,
    ...runRows(label, [run], true),
    {
      metric: `${label}: a text turn's database work p50 / p95 during that ingestion (${during.turns.count} turns) / idle after it (${idle.turns.count})`,
      value: `${p50p95(during.turns, 'ms')} / ${p50p95(idle.turns, 'ms')}`,
    },
    {
      metric: `${label}: event-loop delay p99 / max during that ingestion`,
      value: `${fmt(during.loopP99Ms)} / ${fmt(during.loopMaxMs)} ms`,
    },
  ];
}

function isJudged(variant: Variant): boolean {
  return isProduct(variant.plan) && variant.settings === undefined;
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
    const start = await prepare(store, { ...setup, plan: SERVER_STORE_PLAN }, options.indexChunks, {
      atOnce: 1,
    });
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
    "A throwaway, durable PostgreSQL 15 with pgvector 0.8.6 on this machine (initdb defaults: fsync, synchronous commit and full-page writes on), postgres.js over loopback, pool of 10. Each variant starts from an empty `knowledge_chunks` (TRUNCATE, then CHECKPOINT) and ingests through the product's `ingestDocument` (splitter, the statistics refresh) with the HNSW index live; the emulated embedder's vectors are computed before the clock starts. Only the store plan, the layout, a server setting or the index differs.",
    `Store plans: ${options.planChunks} chunks as one document, as ${options.documentsAtOnce} documents ingested at once, or as ${CHUNKS_PER_DOCUMENT}-chunk documents one after another. "N rows x M at once": N chunks per INSERT, at most M INSERTs running at once, a bound shared by every document on one database. Every variant runs twice, the second pass in reverse order; the rate is the mean, each pass in brackets.`,
    "Server settings: set with ALTER SYSTEM and pg_reload_conf() for that variant only, then reset. Text turns: one every 100 ms on the same pool while the product's plan ingests one document (append the user's message, `findSimilarChunks` top-5 of the character being ingested, append the reply), then the same turns with nothing ingesting; perf_hooks' event-loop delay over the ingestion.",
    `Index variants: the index is rebuilt empty with the given m and ef_construction, ${options.indexChunks} chunks ingested with the product's plan, then ${options.queries} \`findSimilarChunks\` top-5 calls (ef_search 64) against brute-force cosine in JS.`,
    'CPU per chunk: the bench process (splitter, SQL building) and every PostgreSQL process (/proc), over the chunks stored; rates are wall time on a 2-core machine both share.',
  ];
}

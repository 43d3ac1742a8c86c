/**
 * Issue 15 item 4, ingestion on PostgreSQL with the HNSW index live: the levers side by side
 * in one run. The product's store plan on one large document, on several documents at once
 * and on a stream of small ones; text turns beside an ingestion, with and without the
 * product's back-off while turns are active; then HNSW build parameters
 * (knowledge-ingest-index.ts). The product uses `SERVER_STORE_PLAN` and the migration's
 * index; everything else here is a variant.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DOCUMENTS_AT_ONCE } from '../agent/knowledge/deferred-embedding.js';
import { SERVER_STORE_PLAN, type StorePlan } from '../agent/knowledge/ingest.js';
import { findPostgres } from '../tests/helpers/postgres-server.js';
import { probeTurns } from './ingest-probe.js';
import { type IndexVariants, measureIndexes } from './knowledge-ingest-index.js';
import {
  freshCharacter,
  type Layout,
  prepare,
  progress,
  type Run,
  runRows,
} from './knowledge-ingest-run.js';
import { openStore, type Store } from './knowledge-store.js';
import { describeLoad } from './machine.js';
import { bothPgvectorBuilds } from './pgvector-native.js';
import type { ResultRow, SectionResult } from './report.js';
import { CHUNKS_PER_DOCUMENT } from './retrieval-corpus.js';
import { fmt, p50p95 } from './stats.js';

export interface IngestBenchOptions extends IndexVariants {
  /** Chunks each store-plan variant ingests. */
  planChunks: number;
  /** Documents ingested at once in the "several documents" variant. */
  documentsAtOnce: number;
  /** Text turns measured with nothing ingesting, for contrast with those beside an ingestion. */
  probeTurns: number;
  /**
   * Compare the product's plan on the .ci/run pgvector build and on a -march=native build
   * (bench/pgvector-native.ts) instead of the store plans on the installed build alone.
   */
  builds?: boolean;
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
  builds: true,
};

/** What the turn-activity bound waits after the last turn, and a little more. */
const TURNS_QUIET_MS = 3_500;

interface Variant {
  label: string;
  plan: StorePlan;
  layout: Layout;
}

function layoutLabel(layout: Layout): string {
  if ('atOnce' in layout) {
    return layout.atOnce === 1 ? 'one document' : `${layout.atOnce} documents at once`;
  }
  if ('sweep' in layout) {
    return `${layout.sweep}-chunk documents, ${DOCUMENTS_AT_ONCE} at once by the pending-document sweep`;
  }
  return `${layout.oneAfterAnother}-chunk documents one after another`;
}

function variantLabel(variant: Variant): string {
  const { plan } = variant;
  return `${layoutLabel(variant.layout)}, ${plan.rowsPerStatement} rows x ${plan.statementsAtOnce} at once${variant.label}`;
}

/** The product's plan on one large document, several at once, and a stream of small ones. */
function planVariants(options: IngestBenchOptions): Variant[] {
  const product = { label: ' (product)', plan: SERVER_STORE_PLAN };
  return [
    { ...product, layout: { atOnce: 1 } },
    { ...product, layout: { atOnce: options.documentsAtOnce } },
    { ...product, label: ' (before)', layout: { oneAfterAnother: CHUNKS_PER_DOCUMENT } },
    { ...product, layout: { sweep: CHUNKS_PER_DOCUMENT } },
  ];
}

/**
 * The product's plan (one large document, and small documents through the sweep) on the
 * pgvector build `.ci/run` installs and on upstream's default `-march=native` build, each in
 * its own durable cluster, interleaved and twice (the second pass in reverse order).
 */
async function measureBuilds(
  stores: { label: string; store: Store }[],
  options: IngestBenchOptions,
): Promise<ResultRow[]> {
  const variants = planVariants(options).filter((v) => !('oneAfterAnother' in v.layout));
  const pairs = stores.flatMap((s) => variants.map((variant) => ({ ...s, variant })));
  const runs = new Map(pairs.map((pair) => [pair, [] as Run[]]));
  for (const pass of [pairs, [...pairs].reverse()]) {
    for (const pair of pass) {
      progress(`${pair.label}: ${variantLabel(pair.variant)}`);
      runs.get(pair)?.push(await runVariant(pair.store, pair.variant, options));
    }
  }
  return pairs.flatMap((pair) =>
    runRows(`${pair.label}, ${variantLabel(pair.variant)}`, runs.get(pair) ?? [], true),
  );
}

/** Runs `measureBuilds` on private portable and -march=native builds of pgvector. */
async function measureBuildsBeside(options: IngestBenchOptions): Promise<ResultRow[]> {
  const system = findPostgres();
  if ('missing' in system) return [];
  const builds = await bothPgvectorBuilds(system.binDir);
  const stores: { label: string; store: Store }[] = [];
  try {
    for (const install of builds.installs) {
      const store = await openStore('postgres', { binDir: install.binDir });
      if ('missing' in store) throw new Error(store.missing);
      stores.push({ label: install.label, store });
    }
    return await measureBuilds(stores, options);
  } finally {
    for (const { store } of stores) await store.close();
    await builds.dispose();
  }
}

/** One ingestion of a variant from an empty table. */
async function runVariant(store: Store, variant: Variant, options: IngestBenchOptions) {
  progress(variantLabel(variant));
  const setup = await freshCharacter(store, options.planChunks);
  const start = await prepare(
    store,
    { ...setup, plan: variant.plan },
    options.planChunks,
    variant.layout,
  );
  return start();
}

/**
 * Every variant twice, the second pass in reverse order, so a machine whose load drifts
 * during the run favours no variant.
 */
async function measurePlans(store: Store, options: IngestBenchOptions): Promise<ResultRow[]> {
  const variants = planVariants(options);
  const runs = new Map<Variant, Run[]>(variants.map((variant) => [variant, []]));
  for (const pass of [variants, [...variants].reverse()]) {
    for (const variant of pass) runs.get(variant)?.push(await runVariant(store, variant, options));
  }
  return variants.flatMap((variant) =>
    runRows(variantLabel(variant), runs.get(variant) ?? [], variant.label !== ' (before)'),
  );
}

/**
 * One document ingested with text turns every 100 ms beside it: with the product's plan
 * (one statement at a time while turns are active) and without the back-off (three), twice
 * each in the order before, after, after, before; then turns with nothing ingesting.
 */
async function measureTurnsBeside(store: Store, options: IngestBenchOptions): Promise<ResultRow[]> {
  const without = {
    ...SERVER_STORE_PLAN,
    statementsDuringTurns: SERVER_STORE_PLAN.statementsAtOnce,
  };
  const plans = [
    { label: 'no back-off while turns are active (before)', plan: without },
    {
      label: `${SERVER_STORE_PLAN.statementsDuringTurns} statement at a time while turns are active (product)`,
      plan: SERVER_STORE_PLAN,
    },
  ];
  const results = new Map(plans.map((p) => [p, [] as Awaited<ReturnType<typeof probeOnce>>[]]));
  for (const p of [...plans, ...[...plans].reverse()]) {
    progress(`one document with text turns beside it, ${p.label}`);
    results.get(p)?.push(await probeOnce(store, p.plan, options));
    // The next ingestion starts with no turn counted as recent.
    await sleep(TURNS_QUIET_MS);
  }
  const setup = await freshCharacter(store, options.probeTurns);
  const search = { characterId: setup.characterId, embedding: () => setup.embedder.queryVector() };
  const idle = await probeTurns(store.handle.db, search, { turns: options.probeTurns });
  const rows: ResultRow[] = [];
  for (const p of plans) {
    const label = `one document, a text turn every 100 ms beside it, ${p.label}`;
    const passes = results.get(p) ?? [];
    rows.push(
      ...runRows(
        label,
        passes.map((r) => r.run),
        false,
      ),
      {
        metric: `${label}: a text turn's database work p50 / p95, each pass (turns)`,
        value: passes
          .map((r) => `${p50p95(r.during.turns, 'ms')} (${r.during.turns.count})`)
          .join('; '),
      },
      {
        metric: `${label}: event-loop delay p99 / max, each pass`,
        value: passes
          .map((r) => `${fmt(r.during.loopP99Ms)} / ${fmt(r.during.loopMaxMs)} ms`)
          .join('; '),
      },
    );
  }
  rows.push({
    metric: `a text turn's database work p50 / p95 with nothing ingesting (${idle.turns.count} turns); event-loop delay p99 / max`,
    value: `${p50p95(idle.turns, 'ms')}; ${fmt(idle.loopP99Ms)} / ${fmt(idle.loopMaxMs)} ms`,
  });
  return rows;
}

async function probeOnce(store: Store, plan: StorePlan, options: IngestBenchOptions) {
  const setup = await freshCharacter(store, options.planChunks + 200);
  const start = await prepare(store, { ...setup, plan }, options.planChunks, { atOnce: 1 });
  const search = { characterId: setup.characterId, embedding: () => setup.embedder.queryVector() };
  const ingesting = start();
  const during = await probeTurns(store.handle.db, search, ingesting);
  return { run: await ingesting, during };
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
      if (options.builds) rows.push(...(await measureBuildsBeside(options)));
      else rows.push(...(await measurePlans(store, options)));
      rows.push(...(await measureTurnsBeside(store, options)));
      // The index variants are measured below Parley by the hnsw section (bench/hnsw-insert.ts).
      if (!options.builds) rows.push(...(await measureIndexes(store, options)));
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
    "A throwaway, durable PostgreSQL 15 with pgvector 0.8.6 on this machine (initdb defaults: fsync, synchronous commit and full-page writes on), postgres.js over loopback, pool of 10. Each variant starts from an empty `knowledge_chunks` (TRUNCATE, then CHECKPOINT) and ingests through the product's `ingestDocument` (splitter, the statistics refresh) with the HNSW index live; the emulated embedder's vectors are computed before the clock starts.",
    `Store plans: ${options.planChunks} chunks as one document, as ${options.documentsAtOnce} documents ingested at once, as ${CHUNKS_PER_DOCUMENT}-chunk documents one after another (what the pending-document sweep did before), or as ${CHUNKS_PER_DOCUMENT}-chunk pending documents embedded by the product's sweep (\`embedPendingDocuments\`, ${DOCUMENTS_AT_ONCE} at once). "N rows x M at once": N chunks per INSERT, at most M INSERTs running at once, a bound shared by every document on one database. Every variant runs twice, the second pass in reverse order; the rate is the mean, each pass in brackets.`,
    ...(options.builds
      ? [
          "pgvector builds: the rows headed `pgvector OPTFLAGS=\"\"` run pgvector compiled for any x86-64 (baseline SSE2, with pgvector's own FMA dispatch for float distances); those headed `-march=native` the same source at upstream's default flags. Each is a private copy of the server's install tree with its own durable cluster (bench/pgvector-native.ts). The two are interleaved, each variant twice, the second pass in reverse order; the text-turn rows run on the installed build.",
        ]
      : []),
    `Text turns: one every 100 ms on the same pool while one ${options.planChunks}-chunk document ingests (append the user's message, the product's retriever: top-5 of the character being ingested, append the reply), with and without the bound dropping to one statement while turns are active, in the order without, with, with, without; then ${options.probeTurns} turns with nothing ingesting. perf_hooks' event-loop delay (10 ms resolution) over each ingestion.`,
    options.builds
      ? 'Index variants (m, ef_construction, halfvec): the hnsw section, below Parley.'
      : `Index variants: the index is rebuilt empty with the given m and ef_construction, ${options.indexChunks} chunks ingested with the product's plan, then ${options.queries} \`findSimilarChunks\` top-5 calls (the product's ef_search) against brute-force cosine in JS.`,
    'CPU per chunk: the bench process (splitter, SQL building) and every PostgreSQL process (/proc), over the chunks stored; in brackets, 2,000 ms / (their sum): the rate two cores would give if they did nothing else. Rates are wall time on a 2-core machine that the bench, PostgreSQL and other work share.',
  ];
}

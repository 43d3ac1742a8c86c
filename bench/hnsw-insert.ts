import postgres from 'postgres';
import { defaultEfSearch } from '../db/queries/knowledge.js';
import { findPostgres, startPostgresServer } from '../tests/helpers/postgres-server.js';
import { describeLoad } from './machine.js';
import { assertLoadedFrom, bothPgvectorBuilds, type Install } from './pgvector-native.js';
import { processCpuMs, processesCpuMs } from './proc-cpu.js';
import type { ResultRow, SectionResult } from './report.js';
import { fmt, summarize } from './stats.js';
import { ClusteredSpace } from './vectors.js';

export interface HnswBenchOptions {
  /** Rows in the table before its index is built. */
  baseRows: number;
  /** Rows inserted with the index live, the measured part. */
  insertRows: number;
  rowsPerStatement: number;
  queries: number;
  /** Each variant runs once per pass; the second pass in reverse order. */
  passes: number;
}

export const DEFAULT_HNSW_BENCH: HnswBenchOptions = {
  baseRows: 10_000,
  insertRows: 2_000,
  rowsPerStatement: 48,
  queries: 100,
  passes: 2,
};

const DIMS = 1536;
const TOP_K = 5;
const EF_SEARCH = defaultEfSearch(TOP_K);
interface IndexVariant {
  label: string;
  /** The CREATE INDEX's column/expression and operator class; none: a table without index. */
  on?: string;
  efConstruction?: number;
  /** How a search casts the column and the query so that the index serves it. */
  cast: string;
}

const VARIANTS: IndexVariant[] = [
  { label: 'no index (parse + heap only)', cast: 'vector' },
  {
    label: 'vector, m 16, ef_construction 64 (migration)',
    on: 'embedding vector_cosine_ops',
    efConstruction: 64,
    cast: 'vector',
  },
  {
    label: 'halfvec expression, m 16, ef_construction 64',
    on: `(embedding::halfvec(${DIMS})) halfvec_cosine_ops`,
    efConstruction: 64,
    cast: `halfvec(${DIMS})`,
  },
  {
    label: 'vector, m 16, ef_construction 40',
    on: 'embedding vector_cosine_ops',
    efConstruction: 40,
    cast: 'vector',
  },
  {
    label: 'vector, m 16, ef_construction 32',
    on: 'embedding vector_cosine_ops',
    efConstruction: 32,
    cast: 'vector',
  },
];

function literal(vector: Float32Array): string {
  return `[${Array.from(vector, (x) => x.toFixed(6)).join(',')}]`;
}

/** The same rows and queries for every variant: a fresh space from the same seed. */
function draw(options: HnswBenchOptions): { rows: string[]; queries: string[] } {
  const space = new ClusteredSpace({ dims: DIMS, topics: 40, subjectsPerTopic: 25, seed: 15 });
  const rows = Array.from({ length: options.baseRows + options.insertRows }, () =>
    literal(space.next()),
  );
  const queries = Array.from({ length: options.queries }, () => literal(space.next()));
  return { rows, queries };
}

type Sql = ReturnType<typeof postgres>;

async function insertRows(sql: Sql, rows: string[], perStatement: number): Promise<void> {
  for (let i = 0; i < rows.length; i += perStatement) {
    const batch = rows.slice(i, i + perStatement);
    await sql`insert into hnsw_probe (embedding) select unnest(${batch}::text[])::vector`;
  }
}

/** CPU of every server process that is alive now (backends, WAL writer, checkpointer). */
async function serverCpuMs(sql: Sql): Promise<number> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity`;
  return processesCpuMs(rows.map((row) => row.pid));
}

interface Measured {
  buildMs: number;
  backendMsPerRow: number;
  serverMsPerRow: number;
  wallMsPerRow: number;
  recall: number;
}

async function measureVariant(
  sql: Sql,
  binDir: string,
  variant: IndexVariant,
  data: { rows: string[]; queries: string[] },
  options: HnswBenchOptions,
): Promise<Measured> {
  await sql`drop table if exists hnsw_probe`;
  await sql.unsafe(
    `create table hnsw_probe (id bigserial primary key, embedding vector(${DIMS}) not null)`,
  );
  await insertRows(sql, data.rows.slice(0, options.baseRows), 500);
  const buildStarted = performance.now();
  if (variant.on !== undefined) {
    await sql.unsafe(
      `create index hnsw_probe_idx on hnsw_probe using hnsw (${variant.on}) with (m = 16, ef_construction = ${variant.efConstruction})`,
    );
  }
  const buildMs = performance.now() - buildStarted;
  await sql`checkpoint`;
  const [backend] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  if (backend === undefined) throw new Error('no backend pid');
  assertLoadedFrom(backend.pid, binDir);
  const backendBefore = processCpuMs(backend.pid);
  const serverBefore = await serverCpuMs(sql);
  const started = performance.now();
  await insertRows(sql, data.rows.slice(options.baseRows), options.rowsPerStatement);
  const wallMs = performance.now() - started;
  const n = options.insertRows;
  const measured = {
    buildMs,
    backendMsPerRow: (processCpuMs(backend.pid) - backendBefore) / n,
    serverMsPerRow: ((await serverCpuMs(sql)) - serverBefore) / n,
    wallMsPerRow: wallMs / n,
  };
  return { ...measured, recall: await recall(sql, variant, data.queries) };
}

/**
 * recall@5 of the index (at the product's ef_search, through the variant's cast) against an
 * exact scan of the full-precision vectors, same queries.
 */
async function recall(sql: Sql, variant: IndexVariant, queries: string[]): Promise<number> {
  if (variant.on === undefined) return Number.NaN;
  const top = (tx: postgres.TransactionSql, cast: string, q: string) =>
    tx.unsafe<{ id: string }[]>(
      `select id from hnsw_probe order by embedding::${cast} <=> $1::vector::${cast} limit ${TOP_K}`,
      [q],
    );
  let hits = 0;
  for (const q of queries) {
    const found = await sql.begin(async (tx) => {
      await tx.unsafe(`set local hnsw.ef_search = ${EF_SEARCH}`);
      return top(tx, variant.cast, q);
    });
    const exact = await sql.begin(async (tx) => {
      await tx.unsafe('set local enable_indexscan = off');
      return top(tx, 'vector', q);
    });
    const ids = new Set(exact.map((row) => row.id));
    hits += found.filter((row) => ids.has(row.id)).length;
  }
  return hits / (queries.length * TOP_K);
}

function rowsFor(install: Install, variant: IndexVariant, runs: Measured[]): ResultRow[] {
  const label = `${install.label}, ${variant.label}`;
  const each = (pick: (m: Measured) => number, digits = 2) =>
    `${fmt(summarize(runs.map(pick)).mean, digits)} (${runs.map((m) => fmt(pick(m), digits)).join(', ')})`;
  const rows: ResultRow[] = [
    {
      metric: `${label}: CPU a row, backend / all server processes, ms (mean (each pass))`,
      value: `${each((m) => m.backendMsPerRow)} / ${each((m) => m.serverMsPerRow)}`,
    },
    { metric: `${label}: wall a row, one connection, ms`, value: each((m) => m.wallMsPerRow) },
  ];
  if (variant.on !== undefined) {
    rows.push({
      metric: `${label}: index build s / recall@5 vs exact (ef_search ${EF_SEARCH})`,
      value: `${each((m) => m.buildMs / 1000, 1)} / ${each((m) => m.recall, 3)}`,
    });
  }
  return rows;
}

async function measureInstall(
  install: Install,
  data: { rows: string[]; queries: string[] },
  options: HnswBenchOptions,
): Promise<ResultRow[]> {
  const server = await startPostgresServer({ binDir: install.binDir, fast: false });
  const sql = postgres(server.url(), { max: 1, onnotice: () => {} });
  try {
    await sql`create extension if not exists vector`;
    const runs = new Map<IndexVariant, Measured[]>(VARIANTS.map((v) => [v, []]));
    for (let pass = 0; pass < options.passes; pass++) {
      const order = pass % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        process.stderr.write(`hnsw: ${install.label}, ${variant.label}, pass ${pass + 1}\n`);
        runs.get(variant)?.push(await measureVariant(sql, install.binDir, variant, data, options));
      }
    }
    return VARIANTS.flatMap((variant) => rowsFor(install, variant, runs.get(variant) ?? []));
  } finally {
    await sql.end();
    await server.stop();
  }
}

export async function runHnswBench(options: HnswBenchOptions): Promise<SectionResult> {
  const found = findPostgres();
  if ('missing' in found) throw new Error(`hnsw bench: ${found.missing}`);
  const startedAt = performance.now();
  const data = draw(options);
  const loadBefore = describeLoad();
  const builds = await bothPgvectorBuilds(found.binDir);
  const rows: ResultRow[] = [];
  try {
    for (const install of builds.installs) {
      rows.push(...(await measureInstall(install, data, options)));
    }
  } finally {
    await builds.dispose();
  }
  return {
    name: 'hnsw',
    title: 'HNSW insert cost in PostgreSQL (SQL level)',
    rows,
    notes: [
      "pgvector 0.8.6 built twice from the vendored source, OPTFLAGS=\"\" and upstream's default -march=native, each into a private copy of the server's install tree (bench/pgvector-native.ts; the backend is checked to have mapped that copy's vector.so).",
      `A durable throwaway PostgreSQL per pgvector build; per variant a fresh table of ${options.baseRows.toLocaleString('en-US')} clustered 1536-d unit vectors, the index built on it, then ${options.insertRows.toLocaleString('en-US')} more rows inserted ${options.rowsPerStatement} a statement on one connection (vectors sent as decimal text, parsed by the server: the "no index" row is that parse and the heap insert).`,
      'CPU a row: the inserting backend from /proc, and every server process alive before and after (WAL writer, checkpointer, background writer). Each variant runs once per pass, the second pass in reverse order.',
      `recall@5: ${options.queries} queries drawn from the same space, the index's top 5 at ef_search ${EF_SEARCH} against an exact scan of the same table; the halfvec index is searched with the same cast on both sides.`,
    ],
    load: { before: loadBefore, after: describeLoad() },
    durationMs: performance.now() - startedAt,
  };
}

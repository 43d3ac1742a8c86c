/**
 * One timed ingestion for the `ingest` section: a fresh character on an empty chunk table,
 * its documents created and their stand-in vectors computed first, then the product's
 * `ingestDocument` under the clock, with the CPU it took in this process and in PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import { splitDocument } from '../agent/knowledge/chunker.js';
import { embedPendingDocuments } from '../agent/knowledge/deferred-embedding.js';
import { ingestDocument, type StorePlan } from '../agent/knowledge/ingest.js';
import { createLogger } from '../core/logger.js';
import { createDocument } from '../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS, type KnowledgeDocument } from '../db/schema.js';
import { makeCharacter, makeUser } from '../tests/helpers/fixtures.js';
import type { Store } from './knowledge-store.js';
import type { ResultRow } from './report.js';
import { CHUNKS_PER_DOCUMENT, documentText, EmulatedEmbedder } from './retrieval-corpus.js';
import { fmt } from './stats.js';

export interface Run {
  rate: number;
  clientMsPerChunk: number;
  serverMsPerChunk: number;
}

/**
 * How a variant's chunks arrive: as documents ingested at once, one after another, or left
 * pending and embedded by the deferred-embedding sweep (`embedPendingDocuments`).
 */
export type Layout = { atOnce: number } | { oneAfterAnother: number } | { sweep: number };

export interface Setup {
  characterId: string;
  embedder: EmulatedEmbedder;
}

const silent = createLogger({ level: 'silent' });

/** One document of `chunks` paragraphs (each a chunk of its own), from paragraph `first`. */
function largeDocumentText(first: number, chunks: number): string {
  const parts: string[] = [];
  for (let at = first; at < first + chunks; at += CHUNKS_PER_DOCUMENT) {
    parts.push(documentText(at));
  }
  return parts.join('\n\n');
}

/** The documents of a layout: their first chunk's serial and their size. */
function documentsOf(layout: Layout, chunks: number, first: number) {
  const size =
    'atOnce' in layout
      ? chunks / layout.atOnce
      : 'sweep' in layout
        ? layout.sweep
        : layout.oneAfterAnother;
  return Array.from({ length: chunks / size }, (_, i) => ({ first: first + i * size, size }));
}

/** An empty chunk table and a checkpoint, then a new character with its own stand-in embedder. */
export async function freshCharacter(store: Store, capacity: number): Promise<Setup> {
  const db = store.handle.db;
  // Every variant starts from an empty graph (HNSW inserts cost more as the graph grows) and
  // a checkpoint (the first change to each page after one writes the whole page to the WAL).
  await db.execute(sql`truncate knowledge_chunks`);
  await db.execute(sql`checkpoint`);
  const character = await makeCharacter(db, await makeUser(db));
  const embedder = new EmulatedEmbedder({ dims: EMBEDDING_DIMENSIONS, seed: 7, capacity });
  return { characterId: character.id, embedder };
}

/**
 * Creates the documents of `chunks` chunks laid out as `layout` and returns the ingestion
 * with `plan`, ready to start: what it measures begins when it is called.
 */
export async function prepare(
  store: Store,
  setup: Setup & { plan: StorePlan },
  chunks: number,
  layout: Layout,
): Promise<() => Promise<Run>> {
  const db = store.handle.db;
  // Through the connections the product ingests with (DatabaseHandle.ingestion).
  const deps = { db: store.handle.ingestion, embedder: setup.embedder, logger: silent };
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
  let total = 0;
  const one = async (document: KnowledgeDocument) => {
    const { chunks: stored } = await ingestDocument(deps, document, undefined, setup.plan);
    total += stored;
  };
  const ingest = async () => {
    if ('atOnce' in layout) await Promise.all(created.map(one));
    else if ('sweep' in layout) await embedPendingDocuments({ db, logger: silent, ingest: one });
    else for (const document of created) await one(document);
  };
  return async () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const server = await store.serverCpuMs();
    await ingest();
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

/** Rows for one variant's runs (one per pass): their mean, each pass in brackets. */
export function runRows(label: string, runs: Run[], judged: boolean): ResultRow[] {
  const mean = (pick: (run: Run) => number) =>
    runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const rate = mean((run) => run.rate);
  const each = runs.length > 1 ? ` (${runs.map((run) => fmt(run.rate)).join(', ')})` : '';
  const client = mean((run) => run.clientMsPerChunk);
  const server = mean((run) => run.serverMsPerChunk);
  return [
    {
      metric: `${label}: ingestion rate, index live`,
      value: `${fmt(rate)} chunks/s${each}`,
      ...(judged ? { target: '>= 500 chunks/s', met: rate >= 500 } : {}),
    },
    {
      metric: `${label}: CPU per chunk, bench process / PostgreSQL (the most 2 cores allow)`,
      value: `${fmt(client)} / ${fmt(server)} ms (${fmt(2000 / (client + server))} chunks/s)`,
    },
  ];
}

export function progress(message: string): void {
  process.stderr.write(`bench: ingest: ${message}\n`);
}

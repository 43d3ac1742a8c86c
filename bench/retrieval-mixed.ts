/**
 * Retrieval when characters share the chunk table: one 10k-chunk table split between
 * characters of very different sizes. The plan PostgreSQL picks for `findSimilarChunks`
 * depends on the share of rows the character holds (an exact scan of its rows through the
 * character btree, or the HNSW index filtered by character), and a filtered index scan can
 * lose recall for a small character. For each character size and each planner setting this
 * reports the plan, CPU and wall time, and recall@5 against exact search over that
 * character's own chunks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestDocument } from '../agent/knowledge/ingest.js';
import { createLogger } from '../core/logger.js';
import { type DatabaseHandle, openDatabase } from '../db/client.js';
import {
  createDocument,
  DISTANCE_OPERATOR_COST,
  defaultEfSearch,
  refreshChunkStatistics,
  type SimilarChunkQuery,
  usesVectorIndex,
} from '../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS } from '../db/schema.js';
import { makeCharacter, makeUser } from '../tests/helpers/fixtures.js';
import type { ResultRow } from './report.js';
import { CHUNKS_PER_DOCUMENT, documentText, EmulatedEmbedder } from './retrieval-corpus.js';
import { buildIndex, dropIndex } from './retrieval-index.js';
import { findSimilarChunksWith, type SettingsOverride, searchSettings } from './search-settings.js';
import { fmt, summarize } from './stats.js';

/** Planner settings to compare; what is left out is the product's default. */
export type SearchSettings = SettingsOverride;

export interface MixedOptions {
  /** Chunks per character, multiples of 100, loaded in this order into one table. */
  characters: number[];
  /** Timed queries per character and setting. */
  queries: number;
  /** Settings to compare, the product's (`{}`) first. */
  settings: SearchSettings[];
}

/** The product's setting, the operator cost before (0.05) and one between. */
const COMPARED: SearchSettings[] = [{}, { operatorCost: 0.05 }, { operatorCost: 0.5 }];

export const DEFAULT_MIXED: MixedOptions = {
  characters: [200, 500, 1_000, 2_000, 4_000, 2_300],
  queries: 100,
  settings: COMPARED,
};

/** A small mixed table, for `--quick`. */
export const QUICK_MIXED: MixedOptions = {
  characters: [200, 500, 1_300],
  queries: 20,
  settings: COMPARED,
};

const TOP_K = 5;
const WARMUP_QUERIES = 5;

interface Character {
  id: string;
  chunks: number;
  /** The embedder serials of its chunks: `[from, to)`. */
  from: number;
  to: number;
}

async function loadCharacter(
  handle: DatabaseHandle,
  embedder: EmulatedEmbedder,
  id: string,
  chunks: number,
): Promise<Character> {
  const deps = { db: handle.db, embedder, logger: createLogger({ level: 'silent' }) };
  const from = embedder.embedded;
  for (let loaded = 0; loaded < chunks; loaded += CHUNKS_PER_DOCUMENT) {
    const serial = embedder.embedded;
    const document = await createDocument(handle.db, {
      characterId: id,
      title: `Handbook page ${serial / CHUNKS_PER_DOCUMENT}`,
      contentType: 'text/plain',
      content: documentText(serial),
    });
    await ingestDocument(deps, document);
  }
  return { id, chunks, from, to: embedder.embedded };
}

/** What a setting is called in the table: what differs from the product's defaults. */
export function settingsLabel(settings: SearchSettings): string {
  const parts = [];
  if (settings.operatorCost !== undefined) parts.push(`operator cost ${settings.operatorCost}`);
  if (settings.efSearch !== undefined) parts.push(`ef_search ${settings.efSearch}`);
  if (parts.length > 0) return parts.join(', ');
  return `product (operator cost ${DISTANCE_OPERATOR_COST}, ef_search ${defaultEfSearch(TOP_K)})`;
}

interface Run {
  cpuMs: number[];
  wallMs: number[];
  hits: number;
}

async function timed(
  handle: DatabaseHandle,
  query: SimilarChunkQuery,
  settings: SearchSettings,
  run: Run,
) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const found = await findSimilarChunksWith(handle.db, query, settings);
  run.wallMs.push(performance.now() - started);
  const cpu = process.cpuUsage(cpuBefore);
  run.cpuMs.push((cpu.user + cpu.system) / 1000);
  return found;
}

/** Every setting on the same queries for one character, the order rotating per query. */
async function measureCharacter(
  handle: DatabaseHandle,
  embedder: EmulatedEmbedder,
  character: Character,
  options: MixedOptions,
): Promise<Run[]> {
  const runs = options.settings.map((): Run => ({ cpuMs: [], wallMs: [], hits: 0 }));
  const query = (embedding: number[]): SimilarChunkQuery => ({
    characterId: character.id,
    embedding,
    limit: TOP_K,
  });
  for (let i = 0; i < WARMUP_QUERIES; i++) {
    const embedding = embedder.queryVector();
    for (const settings of options.settings) {
      await findSimilarChunksWith(handle.db, query(embedding), settings);
    }
  }
  for (let i = 0; i < options.queries; i++) {
    const embedding = embedder.queryVector();
    const exact = new Set(embedder.exactTopK(embedding, TOP_K, character.from, character.to));
    for (let turn = 0; turn < options.settings.length; turn++) {
      const s = (i + turn) % options.settings.length;
      const run = runs[s] as Run;
      const found = await timed(handle, query(embedding), options.settings[s] ?? {}, run);
      run.hits += found.filter((chunk) => exact.has(chunk.content)).length;
    }
  }
  return runs;
}

async function planOf(
  handle: DatabaseHandle,
  embedder: EmulatedEmbedder,
  character: Character,
  settings: SearchSettings,
): Promise<string> {
  const query = { characterId: character.id, embedding: embedder.queryVector(), limit: TOP_K };
  const indexed = await usesVectorIndex(handle.db, query, searchSettings(query, settings));
  return indexed ? 'HNSW' : 'exact scan';
}

function characterRows(
  total: number,
  character: Character,
  settings: SearchSettings,
  plan: string,
  run: Run,
): ResultRow[] {
  const cpu = summarize(run.cpuMs);
  const wall = summarize(run.wallMs);
  const recall = run.hits / (run.cpuMs.length * TOP_K);
  const where = `${total / 1000}k mixed table, ${character.chunks}-chunk character, ${settingsLabel(settings)}`;
  return [
    {
      metric: `plan; CPU p50 / p95; wall p95, ${where} (${run.cpuMs.length} queries)`,
      value: `${plan}; ${fmt(cpu.p50)} / ${fmt(cpu.p95)} ms; ${fmt(wall.p95)} ms`,
    },
    {
      metric: `recall@5 vs exact over the character's chunks, ${where}`,
      value: fmt(recall, 3),
      target: '>= 0.95',
      met: recall >= 0.95,
    },
  ];
}

function progress(message: string): void {
  process.stderr.write(`bench: retrieval (mixed): ${message}\n`);
}

/** Loads the mixed table and measures every character under every setting. */
export async function runMixedRetrieval(
  options: MixedOptions = DEFAULT_MIXED,
): Promise<ResultRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-mixed-'));
  const handle = await openDatabase({ dataDir });
  try {
    await handle.migrate();
    const total = options.characters.reduce((sum, n) => sum + n, 0);
    const embedder = new EmulatedEmbedder({
      dims: EMBEDDING_DIMENSIONS,
      seed: 11,
      capacity: total,
    });
    const owner = await makeUser(handle.db);
    await dropIndex(handle);
    const characters: Character[] = [];
    for (const chunks of options.characters) {
      progress(`loading a ${chunks}-chunk character`);
      const { id } = await makeCharacter(handle.db, owner);
      characters.push(await loadCharacter(handle, embedder, id, chunks));
    }
    progress(`building the HNSW index over ${total} chunks`);
    await buildIndex(handle);
    await refreshChunkStatistics(handle.db);
    const rows: ResultRow[] = [];
    for (const character of characters) {
      progress(`querying the ${character.chunks}-chunk character`);
      const runs = await measureCharacter(handle, embedder, character, options);
      for (const [s, settings] of options.settings.entries()) {
        const plan = await planOf(handle, embedder, character, settings);
        rows.push(...characterRows(total, character, settings, plan, runs[s] as Run));
      }
    }
    return rows;
  } finally {
    await handle.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** How the mixed-table rows were measured. */
export function mixedNotes(options: MixedOptions): string[] {
  const total = options.characters.reduce((sum, n) => sum + n, 0);
  return [
    `Mixed table: ${total} chunks shared by characters of ${options.characters.join(', ')} ` +
      'chunks, ingested with `ingestDocument` (index dropped for the load, rebuilt with the ' +
      "migration's definition, then `refreshChunkStatistics`). All characters draw from one " +
      "clustered space (seed 11), so a small character's chunks sit among everyone else's: " +
      'the hard case for an index filtered by character.',
    `Per character, every setting runs on the same ${options.queries} queries (order rotating, ` +
      `after ${WARMUP_QUERIES} warm-up queries); recall@5 is against brute-force cosine over ` +
      "that character's chunks only. The plan is EXPLAIN of the product query under the " +
      'setting: "HNSW" (index filtered by character, iterative scan `strict_order`) or ' +
      '"exact scan" (the character\'s rows through its btree, every distance, sort).',
  ];
}

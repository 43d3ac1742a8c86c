import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { createDocument, getDocument } from '../../db/queries/knowledge.js';
import { EMBEDDING_DIMENSIONS } from '../../db/schema.js';
import { openTestDatabase, rowsOf, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { EMBEDDING_BATCH_SIZE, type Embedder } from './embedder.js';
import { ingestDocument } from './ingest.js';

/**
 * The ingestion path on each driver (vitest projects `pglite` and `postgres`): on a server,
 * three statements run at once on three pooled connections, so the pool has room for them
 * and for the clean-up a failure runs.
 */
let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase(undefined, { poolSize: 4 });
});
afterAll(() => database.close());

const logger = createLogger({ level: 'silent' });
const CHUNKS = 2 * EMBEDDING_BATCH_SIZE + 10;

/** Paragraph `n`: ~900 characters, so the chunker keeps each paragraph as one chunk. */
function paragraph(n: number): string {
  return `Passage ${n}. ${'Europa hides a salty ocean under a shell of ice. '.repeat(18)}`.trim();
}

function documentOf(first: number, count: number): string {
  return Array.from({ length: count }, (_, i) => paragraph(first + i)).join('\n\n');
}

/** The passage number a chunk's text starts with. */
function passageOf(text: string): number {
  return Number(/^Passage (\d+)\./.exec(text)?.[1] ?? Number.NaN);
}

/**
 * Embeds "Passage n" as a unit vector whose second component is n / 10,000, so the stored
 * row shows which text its vector came from. `breakCall` answers that call (1-based) with
 * 3-dimension vectors, which the database refuses.
 */
function passageEmbedder(breakCall?: number): Embedder {
  let calls = 0;
  return {
    async embed(texts) {
      calls += 1;
      return texts.map((text) => {
        if (calls === breakCall) return [1, 0, 0];
        const tag = passageOf(text) / 10_000;
        const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
        v[0] = Math.sqrt(1 - tag * tag);
        v[1] = tag;
        return v;
      });
    },
  };
}

async function newDocument(content: string, title = 'handbook.txt') {
  const character = await makeCharacter(database.db, await makeUser(database.db));
  return createDocument(database.db, {
    characterId: character.id,
    title,
    contentType: 'text/plain',
    content,
  });
}

interface StoredChunk {
  chunk_index: number;
  content: string;
  tag: number;
}

async function chunksOf(documentId: string): Promise<StoredChunk[]> {
  return rowsOf<StoredChunk>(
    await database.db.execute(
      sql`select chunk_index, content, (embedding::real[])[2] as tag
          from knowledge_chunks where document_id = ${documentId} order by chunk_index`,
    ),
  );
}

function expectInOrder(chunks: StoredChunk[], first: number, count: number): void {
  expect(chunks.map((c) => c.chunk_index)).toEqual(Array.from({ length: count }, (_, i) => i));
  chunks.forEach((chunk, i) => {
    expect(passageOf(chunk.content)).toBe(first + i);
    // Each row's vector is its own text's, not a neighbour's from another statement.
    expect(Math.round(Number(chunk.tag) * 10_000)).toBe(first + i);
  });
}

describe('ingestDocument', () => {
  it('stores every chunk, numbered in document order with its own vector, and marks the document ready', async () => {
    const document = await newDocument(documentOf(0, CHUNKS));
    const seen: number[] = [];
    const result = await ingestDocument(
      { db: database.db, embedder: passageEmbedder(), logger },
      document,
      (progress) => seen.push(progress.embedded),
    );
    expect(result.chunks).toBe(CHUNKS);
    expectInOrder(await chunksOf(document.id), 0, CHUNKS);
    expect(await getDocument(database.db, document.id)).toMatchObject({
      status: 'ready',
      chunkCount: CHUNKS,
      error: null,
    });
    expect(seen).toEqual([0, EMBEDDING_BATCH_SIZE, 2 * EMBEDDING_BATCH_SIZE, CHUNKS]);
  });

  it('stores several documents ingested at once, each whole and in order', async () => {
    const documents = await Promise.all(
      [0, 1000, 2000].map((first) => newDocument(documentOf(first, CHUNKS))),
    );
    const deps = { db: database.db, embedder: passageEmbedder(), logger };
    await Promise.all(documents.map((document) => ingestDocument(deps, document)));
    for (const [i, document] of documents.entries()) {
      expectInOrder(await chunksOf(document.id), i * 1000, CHUNKS);
      expect(await getDocument(database.db, document.id)).toMatchObject({ status: 'ready' });
    }
  });

  it('leaves a document that fails mid-way failed, with a short reason and none of its chunks', async () => {
    const document = await newDocument(documentOf(5000, CHUNKS));
    // The first batch is stored (or still being stored) when the second one is refused.
    const ingesting = ingestDocument(
      { db: database.db, embedder: passageEmbedder(2), logger },
      document,
    );
    await expect(ingesting).rejects.toThrow(/expected 1536 dimensions, not 3/);
    const failed = await getDocument(database.db, document.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatch(
      new RegExp(
        `^Storing chunks ${EMBEDDING_BATCH_SIZE}-\\d+ failed: expected 1536 dimensions, not 3$`,
      ),
    );
    // A statement still running when ingestion gave up would land its rows after the
    // clean-up; ingestion waits for them, so none may appear a moment later either.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await chunksOf(document.id)).toEqual([]);
  });

  it('ingests a failed document again from scratch', async () => {
    const document = await newDocument(documentOf(7000, CHUNKS));
    const deps = { db: database.db, logger };
    await expect(
      ingestDocument({ ...deps, embedder: passageEmbedder(3) }, document),
    ).rejects.toThrow();
    await ingestDocument({ ...deps, embedder: passageEmbedder() }, document);
    expectInOrder(await chunksOf(document.id), 7000, CHUNKS);
    expect(await getDocument(database.db, document.id)).toMatchObject({
      status: 'ready',
      error: null,
    });
  });

  it.runIf(inject('databaseDriver') === 'postgres')(
    'runs one INSERT at a time while conversation turns are active, several when none are',
    async () => {
      /**
       * The most INSERTs into chunks the server ran at once during one ingestion, counted in
       * this test's own database: the server is shared with the other test files, whose
       * ingestion runs at the same time.
       */
      const mostAtOnce = async (first: number, active: boolean) => {
        const document = await newDocument(documentOf(first, 4 * EMBEDDING_BATCH_SIZE));
        const deps = { db: database.db, embedder: passageEmbedder(), logger, turns: { active } };
        let done = false;
        const ingesting = ingestDocument(deps, document).finally(() => {
          done = true;
        });
        let most = 0;
        while (!done) {
          const [row] = rowsOf<{ running: number }>(
            await database.db.execute(
              sql`select count(*)::int as running from pg_stat_activity
                  where state = 'active' and datname = current_database()
                    and query like 'insert into "knowledge_chunks"%'`,
            ),
          );
          most = Math.max(most, row?.running ?? 0);
        }
        await ingesting;
        return most;
      };
      expect(await mostAtOnce(8_000, true)).toBe(1);
      // The contrast that shows the poll sees concurrent statements when there are any.
      expect(await mostAtOnce(8_500, false)).toBeGreaterThan(1);
    },
  );
});

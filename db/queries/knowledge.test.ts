import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestDatabase, rowsOf, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { EMBEDDING_DIMENSIONS } from '../schema.js';
import {
  CHUNK_BATCH_SIZE,
  createDocument,
  findSimilarChunks,
  getDocument,
  listDocuments,
  refreshChunkStatistics,
  replaceDocumentChunks,
  usesVectorIndex,
} from './knowledge.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

/** A unit vector pointing mostly along `axis`, slightly along `tilt`. */
function direction(axis: number, tilt = 0, amount = 0): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  v[axis] = 1;
  v[tilt] = (v[tilt] ?? 0) + amount;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function characterWithDocument() {
  const owner = await makeUser(database.db);
  const character = await makeCharacter(database.db, owner);
  const document = await createDocument(database.db, {
    characterId: character.id,
    title: 'notes.md',
    contentType: 'text/markdown',
    content: '# Notes',
  });
  return { owner, character, document };
}

describe('knowledge', () => {
  it('inserts chunks in batches and finds the top-k by cosine similarity, with a floor', async () => {
    const { character, document } = await characterWithDocument();
    const count = CHUNK_BATCH_SIZE + 50;
    const chunks = Array.from({ length: count }, (_, i) => ({
      content: `chunk ${i}`,
      embedding: direction(i % 1000),
    }));
    chunks[7] = { content: 'the answer', embedding: direction(5, 6, 0.2) };
    await replaceDocumentChunks(database.db, {
      documentId: document.id,
      characterId: character.id,
      chunks,
    });
    expect(await getDocument(database.db, document.id)).toMatchObject({
      status: 'ready',
      chunkCount: count,
    });

    const top = await findSimilarChunks(database.db, {
      characterId: character.id,
      embedding: direction(5, 6, 0.3),
      limit: 3,
    });
    expect(top[0]?.content).toBe('the answer');
    expect(top[0]?.similarity).toBeGreaterThan(0.99);
    expect(top.map((c) => c.content)).toContain('chunk 5');
    const floored = await findSimilarChunks(database.db, {
      characterId: character.id,
      embedding: direction(5, 6, 0.3),
      limit: 3,
      minSimilarity: 0.5,
    });
    expect(floored.map((c) => c.content)).toEqual(['the answer', 'chunk 5']);
  });

  it('replaces a document’s chunks on re-ingestion', async () => {
    const { character, document } = await characterWithDocument();
    const first = [{ content: 'old', embedding: direction(1) }];
    const second = [
      { content: 'new a', embedding: direction(1) },
      { content: 'new b', embedding: direction(2) },
    ];
    await replaceDocumentChunks(database.db, {
      documentId: document.id,
      characterId: character.id,
      chunks: first,
    });
    await replaceDocumentChunks(database.db, {
      documentId: document.id,
      characterId: character.id,
      chunks: second,
    });
    const found = await findSimilarChunks(database.db, {
      characterId: character.id,
      embedding: direction(1),
      limit: 10,
    });
    expect(found.map((c) => c.content).sort()).toEqual(['new a', 'new b']);
    expect((await listDocuments(database.db, character.id))[0]?.chunkCount).toBe(2);
  });

  it('never returns another character’s chunks', async () => {
    const a = await characterWithDocument();
    const b = await characterWithDocument();
    await replaceDocumentChunks(database.db, {
      documentId: a.document.id,
      characterId: a.character.id,
      chunks: [{ content: 'secret of a', embedding: direction(42) }],
    });
    const found = await findSimilarChunks(database.db, {
      characterId: b.character.id,
      embedding: direction(42),
      limit: 5,
    });
    expect(found).toEqual([]);
  });

  it('stores embeddings as float32: large components exactly, tiny ones within 2^-30 of the largest', async () => {
    const { character, document } = await characterWithDocument();
    const unit = direction(3, 4, 0.5).map((x, i) => (i % 7 === 0 ? -x : x));
    unit[10] = 1e-7;
    unit[11] = -3.3e-5;
    unit[12] = 0.123456789;
    const large = unit.map((x) => x * 1000);
    await replaceDocumentChunks(database.db, {
      documentId: document.id,
      characterId: character.id,
      chunks: [
        { content: 'large', embedding: large },
        { content: 'unit', embedding: unit },
      ],
    });
    const stored = await database.db.execute(
      sql`select embedding::text as embedding from knowledge_chunks
          where character_id = ${character.id} order by content`,
    );
    const rows = rowsOf<{ embedding: string }>(stored);
    for (const [i, sent] of [large, unit].entries()) {
      const back = JSON.parse(rows[i]?.embedding ?? '[]') as number[];
      const largest = Math.max(...sent.map(Math.abs));
      expect(back).toHaveLength(sent.length);
      for (const [j, x] of sent.entries()) {
        const got = back[j] ?? Number.NaN;
        if (Math.abs(x) >= largest / 128) expect(Math.fround(got)).toBe(Math.fround(x));
        else expect(Math.abs(got - x)).toBeLessThanOrEqual(largest * 2 ** -30);
      }
    }
  });

  it.runIf(inject('databaseDriver') === 'postgres')(
    'leaves statistics to autovacuum on a PostgreSQL server',
    async () => {
      expect(await refreshChunkStatistics(database.db)).toBe(false);
    },
  );

  // PGlite has no autovacuum, and pg_restore_*_stats is PostgreSQL 18 (PGlite's version).
  it.runIf(inject('databaseDriver') === 'pglite')(
    'refreshes statistics on PGlite; few chunks keep the exact scan, many get the index',
    async () => {
      const big = await characterWithDocument();
      const small = await characterWithDocument();
      await replaceDocumentChunks(database.db, {
        documentId: big.document.id,
        characterId: big.character.id,
        chunks: Array.from({ length: 40 }, (_, i) => ({
          content: `big ${i}`,
          embedding: direction(i),
        })),
      });
      await replaceDocumentChunks(database.db, {
        documentId: small.document.id,
        characterId: small.character.id,
        chunks: [{ content: 'small', embedding: direction(1) }],
      });
      expect(await refreshChunkStatistics(database.db)).toBe(true);
      const stats = await database.db.execute(
        sql`select n_distinct from pg_stats
          where tablename = 'knowledge_chunks' and attname = 'character_id'`,
      );
      expect(rowsOf(stats)).toHaveLength(1);
      const search = { embedding: direction(1), limit: 5 };
      expect(
        await usesVectorIndex(database.db, { ...search, characterId: small.character.id }),
      ).toBe(false);

      // Statistics as if the table held 10k chunks, 99% of them one character's. The planner
      // scales tuple counts to the relation's actual size, so the density is what is claimed.
      await database.db.execute(
        sql`select pg_restore_relation_stats('schemaname', 'public', 'relname', 'knowledge_chunks',
                   'relpages', (pg_relation_size('knowledge_chunks') / 8192)::int,
                   'reltuples', 10000::real),
                 pg_restore_attribute_stats('schemaname', 'public', 'relname', 'knowledge_chunks',
                   'attname', 'character_id', 'inherited', false, 'null_frac', 0::real,
                   'avg_width', 16, 'n_distinct', 2::real,
                   'most_common_vals', ${`{${big.character.id}}`}::text,
                   'most_common_freqs', '{0.99}'::real[])`,
      );
      expect(await usesVectorIndex(database.db, { ...search, characterId: big.character.id })).toBe(
        true,
      );
      expect(
        await usesVectorIndex(database.db, { ...search, characterId: small.character.id }),
      ).toBe(false);
    },
  );
});

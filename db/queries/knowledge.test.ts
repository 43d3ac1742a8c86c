import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { EMBEDDING_DIMENSIONS } from '../schema.js';
import {
  CHUNK_BATCH_SIZE,
  createDocument,
  findSimilarChunks,
  getDocument,
  listDocuments,
  replaceDocumentChunks,
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
});

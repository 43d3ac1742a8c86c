import { describe, expect, it } from 'vitest';
import { splitDocument } from '../agent/knowledge/chunker.js';
import { CHUNKS_PER_DOCUMENT, documentText, EmulatedEmbedder } from './retrieval-corpus.js';

describe('documentText', () => {
  it("splits into exactly its paragraphs with the product's chunker", async () => {
    const chunks = await splitDocument(documentText(300), 'text/plain');
    expect(chunks).toHaveLength(CHUNKS_PER_DOCUMENT);
    expect(chunks[0]?.startsWith('Passage 300.')).toBe(true);
    expect(chunks[99]?.startsWith('Passage 399.')).toBe(true);
    expect(new Set(chunks).size).toBe(CHUNKS_PER_DOCUMENT);
  });
});

describe('EmulatedEmbedder', () => {
  it('gives a text the same vector every time and finds it by exact search', async () => {
    const embedder = new EmulatedEmbedder({ dims: 32, seed: 3, capacity: 10 });
    const texts = Array.from({ length: 10 }, (_, i) => `text ${i}`);
    const vectors = await embedder.embed(texts);
    expect(await embedder.embed(['text 4'])).toEqual([vectors[4]]);
    expect(embedder.exactTopK(vectors[7] ?? [], 1)).toEqual(['text 7']);
    expect(embedder.exactTopK(vectors[2] ?? [], 3)[0]).toBe('text 2');
  });

  it('restricts exact search to a range of serials, as one character’s chunks', async () => {
    const embedder = new EmulatedEmbedder({ dims: 32, seed: 5, capacity: 10 });
    const vectors = await embedder.embed(Array.from({ length: 10 }, (_, i) => `text ${i}`));
    expect(embedder.embedded).toBe(10);
    const inRange = embedder.exactTopK(vectors[7] ?? [], 3, 2, 5);
    expect(inRange).toHaveLength(3);
    expect(inRange.every((text) => ['text 2', 'text 3', 'text 4'].includes(text))).toBe(true);
    expect(embedder.exactTopK(vectors[3] ?? [], 1, 2, 5)).toEqual(['text 3']);
  });

  it('refuses more texts than its capacity', async () => {
    const embedder = new EmulatedEmbedder({ dims: 8, seed: 1, capacity: 1 });
    await expect(embedder.embed(['a', 'b'])).rejects.toThrow('capacity');
  });
});

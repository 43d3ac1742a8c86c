import { describe, expect, it } from 'vitest';
import { cosine, hashEmbedding, toBase64Float32 } from './embedding-hash.js';

const norm = (vector: Float32Array) => Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));

describe('hashEmbedding', () => {
  it('is deterministic, unit length, and blind to case and punctuation', () => {
    const a = hashEmbedding('The Lighthouse keeper, at dawn!', 1536);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(hashEmbedding('The Lighthouse keeper, at dawn!', 1536)).toEqual(a);
    expect(cosine(a, hashEmbedding('the lighthouse keeper at dawn', 1536))).toBeCloseTo(1, 5);
  });

  it('ranks shared words above shared nothing, and word order through bigrams', () => {
    const query = hashEmbedding('opening hours of the museum', 1536);
    const match = hashEmbedding('The museum opening hours are nine to five.', 1536);
    const other = hashEmbedding('Penguins live in the southern hemisphere.', 1536);
    expect(cosine(query, match)).toBeGreaterThan(cosine(query, other) + 0.3);
    const swapped = hashEmbedding('hours opening of the museum', 1536);
    expect(cosine(query, swapped)).toBeLessThan(0.99);
  });

  it('gives text without words a vector of its own', () => {
    const marks = hashEmbedding('?!', 64);
    expect(norm(marks)).toBeCloseTo(1, 5);
    expect(cosine(marks, hashEmbedding('...', 64))).toBeLessThan(1);
  });

  it('encodes float32 little-endian base64 as OpenAI does', () => {
    const bytes = Buffer.from(toBase64Float32(new Float32Array([1, -0.5])), 'base64');
    expect(bytes.toString('hex')).toBe('0000803f000000bf');
  });
});

import { describe, expect, it } from 'vitest';
import { mantissaArrayText, mantissaExponent } from './vector-literal.js';

/** What the encoder replaced: plain, slow and obviously right. */
function reference(embedding: number[], exponent: number): string {
  const scale = 2 ** exponent;
  return `{${embedding.map((x) => Math.round(x * scale)).join(',')}}`;
}

function encode(embedding: number[]): string {
  return mantissaArrayText(embedding, mantissaExponent(embedding));
}

describe('mantissaArrayText', () => {
  it('writes the same text as Math.round and join, for embeddings of every scale', () => {
    let state = 11;
    // Park and Miller's generator: the same numbers every run.
    const random = () => {
      state = (state * 16_807) % 2_147_483_647;
      return state / 2_147_483_647;
    };
    for (const size of [1, 3, 1536, 3072]) {
      for (const magnitude of [1e-40, 1e-7, 0.03, 1, 1000, 2 ** 31]) {
        const embedding = Array.from({ length: size }, () => (random() * 2 - 1) * magnitude);
        expect(encode(embedding)).toBe(reference(embedding, mantissaExponent(embedding)));
      }
    }
  });

  it('writes every digit count, signs, zeros and halves as Math.round does', () => {
    const edges = [0, -0, 0.5, -0.5, 1.5, -2.5, 9, 10, 99, 100, 999_999_999, 1_000_000_000];
    const embedding = [2 ** 30, ...edges, ...edges.map((x) => -x)];
    expect(mantissaExponent(embedding)).toBe(0);
    expect(encode(embedding)).toBe(reference(embedding, 0));
    expect(encode([0, 0])).toBe('{0,0}');
  });

  it('refuses a component that is not a finite number', () => {
    expect(() => encode([0.1, Number.NaN])).toThrow(/finite/);
    expect(() => encode([Number.POSITIVE_INFINITY])).toThrow(/finite/);
  });
});

/**
 * The knowledge a retrieval benchmark loads: documents whose chunks split exactly as the
 * product splits them, an emulated embedder that gives each chunk an embedding-like vector,
 * and exact (brute-force) search over everything embedded, to measure recall against.
 */
import type { Embedder } from '../agent/knowledge/embedder.js';
import { ClusteredSpace, seededRandom } from './vectors.js';

/** Chunks per document: a long handbook page split by the product's ~1,000-character chunker. */
export const CHUNKS_PER_DOCUMENT = 100;

const WORDS = (
  'orbit comet nebula stellar lunar tide eclipse meridian zenith parallax quasar pulsar ' +
  'aurora solstice equinox perihelion aphelion spectrum redshift telescope galaxy cluster'
).split(' ');

/**
 * Paragraph `serial` of the corpus: ~900 characters of words, tagged with its serial so every
 * chunk is unique. Two paragraphs never fit in one 1,000-character chunk, and the 150-char
 * overlap cannot carry a 900-char paragraph, so the product's splitter returns them as they are.
 */
function paragraph(serial: number): string {
  const random = seededRandom(serial + 1);
  const words: string[] = [`Passage ${serial}.`];
  let length = words[0]?.length ?? 0;
  while (length < 880) {
    const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'sky';
    words.push(word);
    length += word.length + 1;
  }
  return words.join(' ');
}

/** A plain-text document of `CHUNKS_PER_DOCUMENT` paragraphs, starting at paragraph `first`. */
export function documentText(first: number): string {
  return Array.from({ length: CHUNKS_PER_DOCUMENT }, (_, i) => paragraph(first + i)).join('\n\n');
}

/**
 * The embedding provider stand-in. Each text it has not seen gets the next vector of a
 * clustered space (instantly: the provider's own latency is not what this measures); it
 * remembers every vector, densely packed, for exact search.
 */
export class EmulatedEmbedder implements Embedder {
  private readonly space: ClusteredSpace;
  private readonly byText = new Map<string, number>();
  private readonly texts: string[] = [];
  private packed: Float32Array;
  readonly dims: number;

  constructor(options: { dims: number; seed: number; capacity: number }) {
    this.dims = options.dims;
    this.space = new ClusteredSpace({
      dims: options.dims,
      topics: 60,
      subjectsPerTopic: 12,
      seed: options.seed,
    });
    this.packed = new Float32Array(options.dims * options.capacity);
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((text) => Array.from(this.vectorOf(text)));
  }

  /** A fresh query vector from the same distribution as the stored chunks. */
  queryVector(): number[] {
    return Array.from(this.space.next());
  }

  private vectorOf(text: string): Float32Array {
    const known = this.byText.get(text);
    if (known !== undefined)
      return this.packed.subarray(known * this.dims, (known + 1) * this.dims);
    const index = this.texts.length;
    if ((index + 1) * this.dims > this.packed.length) throw new Error('embedder capacity exceeded');
    const vector = this.space.next();
    this.packed.set(vector, index * this.dims);
    this.byText.set(text, index);
    this.texts.push(text);
    return vector;
  }

  /** How many texts have been embedded; the next one gets this serial. */
  get embedded(): number {
    return this.texts.length;
  }

  /**
   * The `k` texts most similar to `query` by cosine (all vectors are unit length), among
   * those embedded with serials `from` (inclusive) to `to` (exclusive): everything by default.
   */
  exactTopK(query: number[], k: number, from = 0, to = this.texts.length): string[] {
    const q = Float32Array.from(query);
    const best: { score: number; index: number }[] = [];
    for (let index = from; index < Math.min(to, this.texts.length); index++) {
      const score = dotAt(this.packed, index * this.dims, q);
      if (best.length < k || score > (best[best.length - 1]?.score ?? -2)) {
        best.push({ score, index });
        best.sort((a, b) => b.score - a.score);
        if (best.length > k) best.pop();
      }
    }
    return best.map(({ index }) => this.texts[index] ?? '');
  }
}

function dotAt(packed: Float32Array, offset: number, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < q.length; i++) sum += (packed[offset + i] ?? 0) * (q[i] ?? 0);
  return sum;
}

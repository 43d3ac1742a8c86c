import { words } from './http.js';

/** Bigrams count half a unigram: shared phrases lift similarity, shared words carry it. */
const BIGRAM_WEIGHT = 0.5;

/**
 * Function words count a quarter: without this, any two English sentences with a couple of
 * "the"s in them look related (0.25 cosine), which is near a retrieval threshold.
 */
const STOPWORD_WEIGHT = 0.25;
const STOPWORDS = new Set(
  (
    'a an and are as at be but by do does for from has have he her his i in is it its me my ' +
    'of on or our she so that the their them they this to was we were what when where which ' +
    'who why will with you your'
  ).split(' '),
);

/** 32-bit FNV-1a over the UTF-16 code units; fast, stable across runs and platforms. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function features(text: string): [string, number][] {
  const tokens = words(text);
  // Text with no words at all ("?!") still gets a vector of its own rather than zeros.
  if (tokens.length === 0) return [[`raw:${text}`, 1]];
  const out: [string, number][] = tokens.map((token) => [
    `w:${token}`,
    STOPWORDS.has(token) ? STOPWORD_WEIGHT : 1,
  ]);
  for (let i = 1; i < tokens.length; i++) {
    out.push([`b:${tokens[i - 1]} ${tokens[i]}`, BIGRAM_WEIGHT]);
  }
  return out;
}

/**
 * A deterministic stand-in for a sentence embedding: lowercased word unigrams (function
 * words down-weighted) and bigrams, feature-hashed into `dimensions` buckets with a hashed sign (so collisions cancel rather
 * than pile up), then L2-normalised. Texts that share words get a high cosine similarity;
 * texts that share none get about zero. It knows no synonyms.
 */
export function hashEmbedding(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const [feature, weight] of features(text)) {
    const bucket = fnv1a(feature, 0) % dimensions;
    const sign = (fnv1a(feature, 0x9e3779b9) & 1) === 0 ? 1 : -1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) / norm;
  return vector;
}

/** Cosine similarity of two equal-length vectors (both already unit length here). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Float32 little-endian bytes, base64: OpenAI's `encoding_format: "base64"`. */
export function toBase64Float32(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString('base64');
}

/**
 * Deterministic stand-ins for sentence embeddings. Real embeddings of one character's
 * knowledge are not uniform noise: they cluster by topic and, within a topic, by subject.
 * These are unit vectors drawn around a two-level hierarchy of random centres, so that
 * nearest neighbours are meaningful (and an index has structure to exploit) while the
 * spread inside a cluster keeps the search honest.
 */

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

/** A random direction scaled to length `length`. */
function randomDirection(normal: () => number, dims: number, length: number): Float32Array {
  const vector = normalize(Float32Array.from({ length: dims }, normal));
  for (let i = 0; i < dims; i++) vector[i] = (vector[i] ?? 0) * length;
  return vector;
}

export interface ClusteredSpaceOptions {
  dims: number;
  topics: number;
  subjectsPerTopic: number;
  seed: number;
}

/** Relative lengths of the three parts of a point: topic, subject within it, own noise. */
const SUBJECT_WEIGHT = 0.8;
const NOISE_WEIGHT = 0.7;

/** A fixed set of cluster centres from which embedding-like points are drawn. */
export class ClusteredSpace {
  private readonly subjects: Float32Array[] = [];
  private readonly normal: () => number;
  private readonly random: () => number;

  constructor(private readonly options: ClusteredSpaceOptions) {
    this.random = seededRandom(options.seed);
    this.normal = gaussian(this.random);
    for (let t = 0; t < options.topics; t++) {
      const topic = randomDirection(this.normal, options.dims, 1);
      for (let s = 0; s < options.subjectsPerTopic; s++) {
        const offset = randomDirection(this.normal, options.dims, SUBJECT_WEIGHT);
        this.subjects.push(topic.map((x, i) => x + (offset[i] ?? 0)));
      }
    }
  }

  /** The next point: a random subject's centre plus noise, unit length. */
  next(): Float32Array {
    const subject = this.subjects[Math.floor(this.random() * this.subjects.length)];
    if (subject === undefined) throw new Error('a clustered space needs at least one subject');
    const noise = randomDirection(this.normal, this.options.dims, NOISE_WEIGHT);
    return normalize(subject.map((x, i) => x + (noise[i] ?? 0)));
  }
}

/** Dot product; for unit vectors, the cosine similarity. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

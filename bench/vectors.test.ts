import { describe, expect, it } from 'vitest';
import { ClusteredSpace, dot } from './vectors.js';

const options = { dims: 64, topics: 4, subjectsPerTopic: 3, seed: 11 };

describe('ClusteredSpace', () => {
  it('draws unit vectors, the same ones for the same seed', () => {
    const a = new ClusteredSpace(options);
    const b = new ClusteredSpace(options);
    for (let i = 0; i < 5; i++) {
      const x = a.next();
      expect(Array.from(b.next())).toEqual(Array.from(x));
      expect(dot(x, x)).toBeCloseTo(1, 5);
    }
  });

  it('clusters: a point is on average far more similar to some points than to others', () => {
    const space = new ClusteredSpace(options);
    const points = Array.from({ length: 200 }, () => space.next());
    const similarities = points.slice(1).map((p) => dot(points[0] ?? p, p));
    const best = Math.max(...similarities);
    const median =
      [...similarities].sort((x, y) => x - y)[Math.floor(similarities.length / 2)] ?? 0;
    expect(best).toBeGreaterThan(0.5);
    expect(median).toBeLessThan(best - 0.3);
  });
});

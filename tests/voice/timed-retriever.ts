import type { Retriever } from '../../agent/conversation/retrieval.js';

/** A stretch of time, `performance.now()` at both ends. */
export interface Span {
  start: number;
  end: number;
}

/** `retriever`, with when each retrieval started and ended pushed onto `spans`. */
export function timedRetriever(retriever: Retriever, spans: Span[]): Retriever {
  return {
    async retrieve(characterId, query) {
      const start = performance.now();
      try {
        return await retriever.retrieve(characterId, query);
      } finally {
        spans.push({ start, end: performance.now() });
      }
    },
  };
}

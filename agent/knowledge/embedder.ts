import type OpenAI from 'openai';
import { AppError } from '../../core/errors.js';
import { EMBEDDING_DIMENSIONS } from '../../db/schema.js';

/** Turns texts into vectors of `EMBEDDING_DIMENSIONS`. A port: tests and benchmarks swap it. */
export interface Embedder {
  embed(texts: string[]): Promise<number[][]>;
}

/** Texts per request: OpenAI accepts up to 2,048; smaller batches show progress sooner. */
export const EMBEDDING_BATCH_SIZE = 96;

/**
 * Embeddings through the OpenAI API (`text-embedding-3-small` by default), in batches. The
 * SDK client carries the timeout and the retries.
 */
export function createOpenAIEmbedder(client: OpenAI, model: string): Embedder {
  return {
    async embed(texts) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
        const batch = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
        vectors.push(...(await embedBatch(client, model, batch)));
      }
      return vectors;
    },
  };
}

async function embedBatch(client: OpenAI, model: string, input: string[]): Promise<number[][]> {
  let response: OpenAI.CreateEmbeddingResponse;
  try {
    response = await client.embeddings.create({ model, input, dimensions: EMBEDDING_DIMENSIONS });
  } catch (error) {
    throw new AppError('PROVIDER.FAILED', 'The embedding provider failed', { cause: error });
  }
  const ordered = [...response.data].sort((a, b) => a.index - b.index);
  if (ordered.length !== input.length) {
    throw new AppError(
      'PROVIDER.FAILED',
      `Expected ${input.length} embeddings, got ${ordered.length}`,
    );
  }
  return ordered.map((item) => {
    if (item.embedding.length !== EMBEDDING_DIMENSIONS) {
      throw new AppError(
        'PROVIDER.FAILED',
        `Embedding has ${item.embedding.length} dimensions, expected ${EMBEDDING_DIMENSIONS}`,
      );
    }
    return item.embedding;
  });
}

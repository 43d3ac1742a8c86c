import { llm } from '@livekit/agents';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import {
  characterHasKnowledge,
  findSimilarChunks,
  type SimilarChunk,
} from '../../db/queries/knowledge.js';
import type { Embedder } from '../knowledge/embedder.js';
import { turnActivity } from '../knowledge/turn-activity.js';
import { knowledgeBlock } from './prompt.js';

export interface RetrieverDeps {
  db: Executor;
  embedder: Embedder;
  logger: Logger;
  topK: number;
  minSimilarity: number;
  /** Past this, the turn goes on without knowledge rather than keep the user waiting. */
  timeoutMs: number;
}

export interface Retriever {
  /** The character's passages most similar to `query`; empty when it has none or time ran out. */
  retrieve(characterId: string, query: string): Promise<SimilarChunk[]>;
}

/**
 * How long "this character has (no) knowledge" is believed before asking again. Both answers
 * are kept: the check is a database round trip that would otherwise sit before every spoken
 * reply. A stale "yes" only costs a search that finds nothing.
 */
const KNOWLEDGE_CACHE_MS = 30_000;
/** Characters whose answer is kept (least recently used dropped first): memory stays bounded. */
const KNOWLEDGE_CACHE_CHARACTERS = 10_000;

/**
 * Retrieval for conversation turns. Characters without documents skip the embedding call
 * entirely; a slow provider cannot hold a turn past `timeoutMs`.
 */
export function createRetriever(deps: RetrieverDeps): Retriever {
  const hasKnowledge = knowledgeCheck(deps.db);

  async function search(characterId: string, query: string): Promise<SimilarChunk[]> {
    if (!(await hasKnowledge(characterId))) return [];
    const [embedding] = await deps.embedder.embed([query]);
    if (embedding === undefined) return [];
    return findSimilarChunks(deps.db, {
      characterId,
      embedding,
      limit: deps.topK,
      minSimilarity: deps.minSimilarity,
    });
  }

  return {
    async retrieve(characterId, query) {
      if (query.trim() === '') return [];
      try {
        // A turn is under way: ingestion leaves its queries the CPU (turn-activity.ts).
        const searching = turnActivity.during(() => search(characterId, query));
        const result = await withinTime(searching, deps.timeoutMs);
        if (result !== 'timeout') return result;
        deps.logger.warn({ characterId, timeoutMs: deps.timeoutMs }, 'retrieval timed out');
        return [];
      } catch (error) {
        deps.logger.warn(
          { err: error, characterId },
          'retrieval failed; answering without knowledge',
        );
        return [];
      }
    },
  };
}

/** Whether a character has any knowledge, remembered for a while (see KNOWLEDGE_CACHE_MS). */
function knowledgeCheck(db: Executor): (characterId: string) => Promise<boolean> {
  const known = new LRUCache<string, boolean>({
    max: KNOWLEDGE_CACHE_CHARACTERS,
    ttl: KNOWLEDGE_CACHE_MS,
  });
  return async (characterId) => {
    const cached = known.get(characterId);
    if (cached !== undefined) return cached;
    const has = await characterHasKnowledge(db, characterId);
    known.set(characterId, has);
    return has;
  };
}

/** `work`'s result, or `'timeout'` once `timeoutMs` has passed (the work is left to finish). */
async function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function lastUserMessage(chatCtx: llm.ChatContext): { index: number; text: string } | undefined {
  for (let index = chatCtx.items.length - 1; index >= 0; index--) {
    const item = chatCtx.items[index];
    if (item instanceof llm.ChatMessage && item.role === 'user') {
      return { index, text: item.textContent ?? '' };
    }
  }
  return undefined;
}

/**
 * A copy of `chatCtx` with the knowledge for its last user message placed just before that
 * message. The original is left alone: the session's own context never accumulates passages.
 */
export async function withKnowledge(
  retriever: Retriever,
  characterId: string,
  chatCtx: llm.ChatContext,
): Promise<llm.ChatContext> {
  const last = lastUserMessage(chatCtx);
  if (last === undefined) return chatCtx;
  const chunks = await retriever.retrieve(characterId, last.text);
  if (chunks.length === 0) return chatCtx;
  const copy = chatCtx.copy();
  const items = [...copy.items];
  items.splice(
    last.index,
    0,
    llm.ChatMessage.create({ role: 'system', content: knowledgeBlock(chunks) }),
  );
  copy.items = items;
  return copy;
}

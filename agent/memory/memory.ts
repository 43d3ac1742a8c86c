import type OpenAI from 'openai';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import type { Embedder } from '../knowledge/embedder.js';
import { distillRoom } from './distill.js';
import { MemoryKeeper } from './keeper.js';
import { createMemoryRecall, type MemoryRecall } from './recall.js';

/** Longest a turn waits for memory retrieval before going on with the recent memories. */
const RECALL_TIMEOUT_MS = 1_500;

export interface Memory {
  /** What a turn recalls; undefined when memory is turned off for the whole server. */
  recall: MemoryRecall | undefined;
  /** When conversations are distilled. */
  keeper: MemoryKeeper;
  /** Embeds corrected memories, so recall finds them by their new words. */
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Memory across conversations, built once per process. Without an LLM nothing is distilled
 * (memories already stored are still recalled); with `MEMORY_ENABLED=false`, neither.
 */
export function createMemory(
  config: Pick<Config, 'memory' | 'openai' | 'rag'>,
  deps: {
    db: Executor;
    logger: Logger;
    openai: OpenAI;
    embedder: Embedder;
    llmConfigured: boolean;
    flush: () => Promise<void>;
  },
): Memory {
  const logger = deps.logger.child({ component: 'memory' });
  const distilling = config.memory.enabled && deps.llmConfigured;
  const distillDeps = {
    db: deps.db,
    openai: deps.openai,
    model: config.openai.llmModel,
    embedder: deps.embedder,
  };
  const keeper = new MemoryKeeper({
    distill: (chatRoomId) =>
      distilling
        ? distillRoom(distillDeps, chatRoomId)
        : Promise.resolve({ messages: 0, memories: 0, more: false }),
    flush: deps.flush,
    logger,
    idleMs: config.memory.idleMs,
  });
  const recall = memoryRecall(config, deps, logger);
  return { recall, keeper, embed: (texts) => deps.embedder.embed(texts) };
}

/** Recall of a room's memories for a turn, or none with `MEMORY_ENABLED=false`. */
function memoryRecall(
  config: Pick<Config, 'memory' | 'rag'>,
  deps: { db: Executor; embedder: Embedder },
  logger: Logger,
) {
  if (!config.memory.enabled) return undefined;
  return createMemoryRecall({
    db: deps.db,
    embedder: deps.embedder,
    logger,
    recent: config.memory.recent,
    topK: config.memory.topK,
    minSimilarity: config.rag.minSimilarity,
    timeoutMs: RECALL_TIMEOUT_MS,
  });
}

/** The memory calls the HTTP edge makes (its `MemoryPort`): a chat's turns and end, corrections. */
export function memoryPort(memory: Memory) {
  return {
    active: (chatRoomId: number) => memory.keeper.active(chatRoomId),
    ended: (chatRoomId: number) => memory.keeper.ended(chatRoomId),
    forget: (chatRoomId: number) => memory.keeper.forget(chatRoomId),
    embed: (texts: string[]) => memory.embed(texts),
  };
}

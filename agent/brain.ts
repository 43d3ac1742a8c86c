import type { LLM } from '@livekit/agents-plugin-openai';
import type OpenAI from 'openai';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Executor } from '../db/client.js';
import type { KnowledgeDocument } from '../db/schema.js';
import { createRetriever, type Retriever } from './conversation/retrieval.js';
import { type Conversation, createConversation } from './conversation/text-turn.js';
import { TranscriptWriter } from './conversation/transcript-writer.js';
import { createOpenAIEmbedder, type Embedder } from './knowledge/embedder.js';
import { ingestDocument } from './knowledge/ingest.js';
import { createLLM, llmConnectOptions } from './providers/openai.js';
import { createOpenAIClient } from './providers/openai-client.js';

/** Longest a turn waits for retrieval before answering without knowledge. */
const RETRIEVAL_TIMEOUT_MS = 1_500;

export interface Brain {
  openai: OpenAI;
  llm: LLM;
  embedder: Embedder;
  retriever: Retriever;
  writer: TranscriptWriter;
  conversation: Conversation;
  ingestDocument(document: KnowledgeDocument): Promise<void>;
  /** Stores what is still buffered and releases the providers. */
  close(): Promise<void>;
}

/**
 * Everything a character needs to think, built once per process from the configuration:
 * the provider clients, retrieval, the transcript writer and the text conversation. The
 * voice paths (LiveKit worker, direct WebRTC) take their LLM and retriever from here too.
 */
export function createBrain(
  config: Pick<Config, 'openai' | 'providers' | 'rag'>,
  deps: { db: Executor; logger: Logger; embedder?: Embedder },
): Brain {
  const openai = createOpenAIClient(config);
  const llm = createLLM(config, openai);
  const embedder = deps.embedder ?? createOpenAIEmbedder(openai, config.openai.embeddingModel);
  const retriever = createRetriever({
    db: deps.db,
    embedder,
    logger: deps.logger,
    topK: config.rag.topK,
    minSimilarity: config.rag.minSimilarity,
    timeoutMs: RETRIEVAL_TIMEOUT_MS,
  });
  const writer = new TranscriptWriter({ db: deps.db, logger: deps.logger });
  const conversation = createConversation({
    db: deps.db,
    createLLM: () => createLLM(config, openai),
    connOptions: llmConnectOptions(config),
    retriever,
    writer,
    logger: deps.logger,
    historyMessages: config.rag.historyMessages,
  });
  return {
    openai,
    llm,
    embedder,
    retriever,
    writer,
    conversation,
    async ingestDocument(document) {
      await ingestDocument({ db: deps.db, embedder, logger: deps.logger }, document);
    },
    async close() {
      await writer.flush();
      await llm.aclose();
    },
  };
}

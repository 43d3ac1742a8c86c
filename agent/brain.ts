import type OpenAI from 'openai';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Executor } from '../db/client.js';
import type { KnowledgeDocument } from '../db/schema.js';
import {
  CharacterConversations,
  type Conversation,
  type RoomConversation,
} from './conversation/conversations.js';
import { createRetriever, type Retriever } from './conversation/retrieval.js';
import { TranscriptWriter } from './conversation/transcript-writer.js';
import { createOpenAIEmbedder, type Embedder } from './knowledge/embedder.js';
import { ingestDocument } from './knowledge/ingest.js';
import { createMemory, type Memory } from './memory/memory.js';
import { createLLM, llmConnectOptions } from './providers/openai.js';
import { createOpenAIClient, openAIConfigured } from './providers/openai-client.js';
import { llmNotConfigured, type ProviderStatus, providerStatus } from './providers/status.js';

/** Longest a turn waits for retrieval before answering without knowledge. */
const RETRIEVAL_TIMEOUT_MS = 1_500;

/**
 * What every way in to a character shares in one process: the provider client, retrieval and
 * the transcript writer. A LiveKit job needs only these; each use case takes the ones it uses.
 */
export interface CharacterServices {
  openai: OpenAI;
  retriever: Retriever;
  writer: TranscriptWriter;
  /** Memory across conversations: what turns recall, and when conversations are distilled. */
  memory: Memory;
}

/** The token service's process: the shared services, the text conversation and ingestion. */
export interface Brain extends CharacterServices {
  conversation: Conversation;
  /** False without an embedding provider: documents wait as `pending` (deferred-embedding.ts). */
  embeddingsConfigured: boolean;
  /** What this brain talks to, for the page (no secrets). */
  providers: ProviderStatus;
  /** Embeds a document; without an embedding provider it stays `pending` (see deferred-embedding). */
  ingestDocument(document: KnowledgeDocument): Promise<void>;
  /** Stores what is still buffered and releases the providers. */
  close(): Promise<void>;
}

type BrainConfig = Pick<Config, 'openai' | 'cartesia' | 'providers' | 'rag' | 'memory'>;

/** The shared services, built once per process from the configuration. */
export function createCharacterServices(
  config: BrainConfig,
  deps: { db: Executor; logger: Logger; embedder?: Embedder },
): CharacterServices & { embedder: Embedder; embeddingsConfigured: boolean } {
  const openai = createOpenAIClient(config);
  const embeddingsConfigured = deps.embedder !== undefined || openAIConfigured(config);
  const embedder =
    deps.embedder ??
    (embeddingsConfigured
      ? createOpenAIEmbedder(openai, config.openai.embeddingModel)
      : refusingEmbedder);
  const retriever = createRetriever({
    db: deps.db,
    embedder,
    logger: deps.logger,
    topK: config.rag.topK,
    minSimilarity: config.rag.minSimilarity,
    timeoutMs: RETRIEVAL_TIMEOUT_MS,
  });
  const writer = new TranscriptWriter({ db: deps.db, logger: deps.logger });
  const memory = createMemory(config, {
    ...deps,
    openai,
    embedder,
    llmConfigured: openAIConfigured(config),
    flush: () => writer.flush(),
  });
  return { openai, retriever, writer, memory, embedder, embeddingsConfigured };
}

/**
 * Everything the token service's process needs to think, built once from the configuration:
 * the shared services, the text conversation on them, and knowledge ingestion.
 */
export function createBrain(
  config: BrainConfig,
  deps: { db: Executor; logger: Logger; embedder?: Embedder; ingestionDb?: Executor },
): Brain {
  const { embedder, ...services } = createCharacterServices(config, deps);
  const { openai, retriever, writer, memory, embeddingsConfigured } = services;
  const conversation = textConversation(config, { ...deps, openai, retriever, writer, memory });
  return {
    ...services,
    conversation,
    providers: providerStatus(config),
    async ingestDocument(document) {
      if (!embeddingsConfigured) {
        deps.logger.info({ documentId: document.id }, 'document waits for an embedding provider');
        return;
      }
      // Its own connections on a server (DatabaseHandle.ingestion): turns never queue behind it.
      const db = deps.ingestionDb ?? deps.db;
      await ingestDocument({ db, embedder, logger: deps.logger }, document);
    },
    async close() {
      await writer.flush();
      await memory.keeper.close();
    },
  };
}

/** The text conversation; without an LLM a turn is refused before anything is stored. */
function textConversation(
  config: Pick<Config, 'openai' | 'providers' | 'rag'>,
  deps: {
    db: Executor;
    logger: Logger;
    openai: OpenAI;
    retriever: Retriever;
    writer: TranscriptWriter;
    memory: Memory;
  },
): Conversation {
  const talking = new CharacterConversations({
    db: deps.db,
    createLLM: () => createLLM(config, deps.openai),
    connOptions: llmConnectOptions(config),
    retriever: deps.retriever,
    memories: deps.memory.recall,
    writer: deps.writer,
    logger: deps.logger,
    historyMessages: config.rag.historyMessages,
  });
  // No false apology: the turn fails with the configuration error instead.
  if (openAIConfigured(config)) return talking;
  return {
    open: async (chatRoom) => refusingTypedTurns(await talking.open(chatRoom)),
    runTextTurn: () => Promise.reject(llmNotConfigured()),
    greet: (chatRoom) => talking.greet(chatRoom),
    forgetRoom: (chatRoomId) => talking.forgetRoom(chatRoomId),
    forgetCharacter: (characterId) => talking.forgetCharacter(characterId),
  };
}

/** A room's conversation that greets but refuses typed turns: no LLM is configured. */
function refusingTypedTurns(conversation: RoomConversation): RoomConversation {
  return {
    greet: () => conversation.greet(),
    runTextTurn: () => Promise.reject(llmNotConfigured()),
  };
}

/** Stands in for embeddings when none are configured; nothing calls it on a normal path. */
const refusingEmbedder: Embedder = {
  embed: () => Promise.reject(llmNotConfigured()),
};

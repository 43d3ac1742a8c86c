/**
 * Parley's parts wired together: the brain on the database, direct WebRTC calls on the brain,
 * and the HTTP app on all three. `npm start` (main.ts) and the end-to-end tests build the same
 * thing through here, so they cannot drift apart.
 */
import { type Brain, createBrain } from '../agent/brain.js';
import { seedExampleCharacters } from '../agent/examples/seed.js';
import {
  type DeferredEmbedding,
  startDeferredEmbedding,
} from '../agent/knowledge/deferred-embedding.js';
import { memoryPort } from '../agent/memory/memory.js';
import type { PeerOptions } from '../agent/transports/webrtc/peer.js';
import type { DirectSessions } from '../agent/transports/webrtc/registry.js';
import { startDirectCalls } from '../agent/transports/webrtc/setup.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle } from '../db/client.js';
import { type App, buildApp } from './app.js';
import { createAuth } from './auth-setup.js';

export interface Parley {
  brain: Brain;
  calls: DirectSessions;
  app: App;
  /** Hangs up every call (storing what was said), closes the app, then the brain. */
  close(): Promise<void>;
}

/** Builds Parley on an open, migrated database. The app is built but not listening yet. */
export async function composeParley(
  config: Config,
  deps: { database: DatabaseHandle; logger: Logger; peer?: PeerOptions },
): Promise<Parley> {
  const { database, logger } = deps;
  const brain = createBrain(config, { db: database.db, ingestionDb: database.ingestion, logger });
  const seeded = await seedExampleCharacters(database.db);
  if (seeded > 0) logger.info({ characters: seeded }, 'example characters created');
  const embedding = pendingDocumentEmbedding(brain, database, logger);
  const { openai, retriever, writer, memory } = brain;
  const calls = await startDirectCalls(config, {
    ...{ db: database.db, openai, retriever, writer, memory, logger },
    ...(deps.peer === undefined ? {} : { peer: deps.peer }),
  });
  const app = await buildApp({
    config,
    logger,
    database,
    auth: await createAuth(config),
    conversation: brain.conversation,
    knowledge: brain,
    memory: memoryPort(brain.memory),
    providers: brain.providers,
    rtc: calls,
  });
  return {
    brain,
    calls,
    app,
    async close() {
      await calls.closeAll();
      await app.close();
      await embedding?.close();
      await brain.close();
    },
  };
}

/** Embeds documents left `pending`, or says once that they wait for a provider. */
function pendingDocumentEmbedding(
  brain: Brain,
  database: DatabaseHandle,
  logger: Logger,
): DeferredEmbedding | undefined {
  if (!brain.embeddingsConfigured) {
    logger.info('knowledge documents stay pending until an embedding provider is configured');
    return undefined;
  }
  return startDeferredEmbedding({
    db: database.db,
    logger: logger.child({ part: 'knowledge' }),
    ingest: (document) => brain.ingestDocument(document),
  });
}

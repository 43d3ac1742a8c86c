/**
 * The token service as a benchmark runs it: the real app (`buildApp`) over embedded PGlite,
 * Supabase-style ES256 tokens checked against a local JWKS, LiveKit credentials set (fake key
 * and secret: tokens are signed, never sent anywhere) and the real brain pointed at an
 * OpenAI-compatible emulator. Everything listens on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeLogger } from '@livekit/agents';
import { createBrain } from '../agent/brain.js';
import { createLLM, llmConnectOptions } from '../agent/providers/openai.js';
import { type Config, loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { type DatabaseHandle, type DatabaseOptions, openDatabase } from '../db/client.js';
import { createCharacter } from '../db/queries/characters.js';
import { getOrCreateProfile } from '../db/queries/profiles.js';
import { type FakeSupabase, startFakeSupabase } from '../tests/supabase/fake-supabase.js';
import { type App, buildApp } from '../token-service/app.js';
import {
  createAccessTokenVerifier,
  supabaseVerifierOptions,
} from '../token-service/auth/verifier.js';
import { benchConversation, type TextTurnVariant } from './text-turn-variants.js';

export interface BenchServerOptions {
  /** Where the LLM emulator listens, e.g. `http://127.0.0.1:PORT/v1`. */
  openaiBaseUrl: string;
  /** Extra environment for `loadConfig`. */
  env?: Record<string, string>;
  /** Where PGlite runs (default: its own thread, as the product). */
  embedded?: DatabaseOptions['embedded'];
  /** The text turn as measured (default: the product's). */
  textTurn?: TextTurnVariant;
}

export interface BenchServer {
  app: App;
  config: Config;
  database: DatabaseHandle;
  supabase: FakeSupabase;
  /** `127.0.0.1:PORT` the app listens on. */
  host: string;
  /** A public character any user may talk to. */
  createPublicCharacter(): Promise<string>;
  /** Stops the app and flushes the brain; the database stays open to be checked. */
  stopServing(): Promise<void>;
  close(): Promise<void>;
}

/** The environment every benchmark server runs with (callers may add to it). */
export const BENCH_ENV: Record<string, string> = {
  LOG_LEVEL: 'silent',
  LIVEKIT_URL: 'wss://livekit.bench.invalid',
  LIVEKIT_API_KEY: 'APIbenchkey',
  LIVEKIT_API_SECRET: 'bench-livekit-secret-that-is-long-enough-0123456789',
  OPENAI_API_KEY: 'bench-key',
  PROVIDER_MAX_RETRIES: '0',
  // Bench clients chat faster than a person: the per-user turn budget would measure itself.
  RATE_LIMIT_PER_MINUTE: '100000000',
};

export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  initializeLogger({ pretty: false, level: 'warn' });
  const supabase = await startFakeSupabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  const database = await openDatabase({ dataDir, embedded: options.embedded });
  await database.migrate();
  const config = loadConfig({
    ...BENCH_ENV,
    DATA_DIR: dataDir,
    SUPABASE_URL: supabase.url,
    OPENAI_BASE_URL: options.openaiBaseUrl,
    ...options.env,
  });
  const logger = createLogger({ level: config.logLevel });
  const brain = createBrain(config, { db: database.db, logger });
  const verifier = createAccessTokenVerifier(
    supabaseVerifierOptions({
      supabaseUrl: supabase.url,
      supabaseJwtSecret: undefined,
      jwksCacheMs: config.auth.jwksCacheMs,
    }),
  );
  const app = await buildApp({
    config,
    logger,
    database,
    auth: { verifier, devSessionsEnabled: false },
    conversation:
      options.textTurn === undefined
        ? brain.conversation
        : benchConversation(options.textTurn, {
            db: database.db,
            createLLM: () => createLLM(config, brain.openai),
            connOptions: llmConnectOptions(config),
            retriever: brain.retriever,
            writer: brain.writer,
            logger,
            historyMessages: config.rag.historyMessages,
          }),
    knowledge: brain,
    providers: brain.providers,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  let serving = true;
  const stopServing = async () => {
    if (!serving) return;
    serving = false;
    await app.close();
    await brain.close();
  };
  return {
    app,
    config,
    database,
    supabase,
    host: `127.0.0.1:${port}`,
    createPublicCharacter: () => publicCharacter(database),
    stopServing,
    async close() {
      await stopServing();
      await database.close();
      await supabase.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function publicCharacter(database: DatabaseHandle): Promise<string> {
  const owner = await getOrCreateProfile(database.db, {
    id: randomUUID(),
    displayName: 'Owner',
    accountName: 'owner',
  });
  const character = await createCharacter(database.db, {
    ownerId: owner.id,
    name: 'Mira',
    instructions: 'You are Mira, a patient astronomy guide.',
    isPublic: true,
  });
  return character.id;
}

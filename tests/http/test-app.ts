import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { memoryPort } from '../../agent/memory/memory.js';
import { type Config, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Database } from '../../db/client.js';
import { type App, buildApp } from '../../token-service/app.js';
import type { WebSocketTuning } from '../../token-service/app-deps.js';
import { createAuth } from '../../token-service/auth-setup.js';
import { startTestBrain, type TestBrain } from '../helpers/brain.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import {
  type AccessTokenOptions,
  type FakeSupabase,
  startFakeSupabase,
} from '../supabase/fake-supabase.js';

/** LiveKit credentials for tests: tokens are checked with these and `TokenVerifier`. */
export const TEST_LIVEKIT = {
  url: 'wss://livekit.parley.test',
  apiKey: 'APItestkey',
  apiSecret: 'test-livekit-secret-that-is-long-enough-0123456789',
  agentName: 'parley-character',
};

export interface TestAppOptions {
  /** Extra environment for `loadConfig` (e.g. `RATE_LIMIT_PER_MINUTE`). */
  env?: Record<string, string>;
  /** Leave LiveKit unconfigured. */
  withoutLiveKit?: boolean;
  webSocket?: Partial<WebSocketTuning>;
  /**
   * Be the embedded issuer (no Supabase), listening on `host` (default 127.0.0.1), with the
   * signing key in a fresh data directory.
   */
  embeddedAuth?: { host?: string; allowDevSessions?: boolean };
  /** Where logs go, at level info; silent when absent. */
  logDestination?: DestinationStream;
  /** Extra environment for the brain (e.g. empty `OPENAI_*` for "no LLM configured"). */
  brainEnv?: Record<string, string>;
}

/** The real app over a migrated test database, a fake Supabase and the real brain on an emulator. */
export interface TestApp {
  app: App;
  config: Config;
  database: TestDatabase;
  db: Database;
  supabase: FakeSupabase;
  brain: TestBrain;
  /** A valid Supabase access token; `sub` names the user (a new one when omitted). */
  token(options?: AccessTokenOptions): Promise<string>;
  /** `ws://127.0.0.1:PORT`, after {@link TestApp.listen}. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const supabase = await startFakeSupabase();
  const database = await openTestDatabase();
  const brain = await startTestBrain(database.db, { env: options.brainEnv ?? {} });
  const livekitEnv = options.withoutLiveKit
    ? {}
    : {
        LIVEKIT_URL: TEST_LIVEKIT.url,
        LIVEKIT_API_KEY: TEST_LIVEKIT.apiKey,
        LIVEKIT_API_SECRET: TEST_LIVEKIT.apiSecret,
        LIVEKIT_AGENT_NAME: TEST_LIVEKIT.agentName,
      };
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-http-'));
  const embedded = options.embeddedAuth;
  const authEnv =
    embedded === undefined
      ? { SUPABASE_URL: supabase.url }
      : {
          HOST: embedded.host ?? '127.0.0.1',
          ALLOW_DEV_SESSIONS: String(embedded.allowDevSessions ?? false),
        };
  const config = loadConfig({ DATA_DIR: dataDir, ...authEnv, ...livekitEnv, ...options.env });
  const logger =
    options.logDestination === undefined
      ? createLogger({ level: 'silent' })
      : createLogger({ level: 'info', destination: options.logDestination });
  const app = await buildApp({
    config,
    logger,
    database,
    auth: await createAuth(config),
    conversation: brain.brain.conversation,
    knowledge: brain.brain,
    memory: memoryPort(brain.brain.memory),
    providers: brain.brain.providers,
    ...(options.webSocket === undefined ? {} : { webSocket: options.webSocket }),
  });
  return {
    app,
    config,
    database,
    db: database.db,
    supabase,
    brain,
    token: (tokenOptions) => supabase.signAccessToken(tokenOptions),
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    async close() {
      await app.close();
      await brain.close();
      await database.close();
      await supabase.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `Authorization` header for a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

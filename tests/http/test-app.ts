import type { AddressInfo } from 'node:net';
import { type Config, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Database } from '../../db/client.js';
import { type App, buildApp } from '../../token-service/app.js';
import type { WebSocketTuning } from '../../token-service/app-deps.js';
import {
  createAccessTokenVerifier,
  supabaseVerifierOptions,
} from '../../token-service/auth/verifier.js';
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
  const brain = await startTestBrain(database.db);
  const livekitEnv = options.withoutLiveKit
    ? {}
    : {
        LIVEKIT_URL: TEST_LIVEKIT.url,
        LIVEKIT_API_KEY: TEST_LIVEKIT.apiKey,
        LIVEKIT_API_SECRET: TEST_LIVEKIT.apiSecret,
        LIVEKIT_AGENT_NAME: TEST_LIVEKIT.agentName,
      };
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    SUPABASE_URL: supabase.url,
    ...livekitEnv,
    ...options.env,
  });
  const verifier = createAccessTokenVerifier(
    supabaseVerifierOptions({ supabaseUrl: supabase.url, jwksCacheMs: config.auth.jwksCacheMs }),
  );
  const app = await buildApp({
    config,
    logger: createLogger({ level: 'silent' }),
    database,
    auth: { verifier, devSessionsEnabled: false },
    conversation: brain.brain.conversation,
    knowledge: brain.brain,
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
    },
  };
}

/** `Authorization` header for a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

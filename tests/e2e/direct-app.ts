import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeLogger } from '@livekit/agents';
import type { Brain } from '../../agent/brain.js';
import type { PeerOptions } from '../../agent/transports/webrtc/peer.js';
import type { DirectSessions } from '../../agent/transports/webrtc/registry.js';
import { type Config, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { App } from '../../token-service/app.js';
import { composeParley } from '../../token-service/compose.js';
import {
  type CartesiaEmulator,
  startCartesiaEmulator,
} from '../dev-tools/providers/cartesia-emulator.js';
import type { ChatCompletionRequest } from '../dev-tools/providers/openai-chat.js';
import {
  type OpenAIEmulator,
  startOpenAIEmulator,
} from '../dev-tools/providers/openai-emulator.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { type Exchange, phraseRecognizer, scriptedReply } from './script.js';

initializeLogger({ pretty: false, level: 'warn' });

/** Parley as `npm start` runs it, on a test database, with both providers emulated. */
export interface DirectTestApp {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  app: App;
  config: Config;
  database: TestDatabase;
  brain: Brain;
  calls: DirectSessions;
  openai: OpenAIEmulator;
  cartesia: CartesiaEmulator;
  /** What the emulated Whisper recognised in each upload, in order. */
  transcripts: string[];
  close(): Promise<void>;
}

/**
 * Starts the real app (buildApp, listening on 127.0.0.1:0) with direct WebRTC calls, the
 * embedded issuer with dev sessions, an OpenAI emulator whose transcriptions are pocketsphinx
 * restricted to the exchanges' questions and whose LLM answers each question with its answer
 * (or as `reply` says), and a Cartesia emulator speaking with flite.
 */
export async function startDirectTestApp(options: {
  exchanges: readonly Exchange[];
  /** The LLM's reply; default: each exchange's answer to its question (`scriptedReply`). */
  reply?: (request: ChatCompletionRequest) => string;
  peer?: PeerOptions;
  /** More configuration; `OPENAI_API_KEY: ''` etc. unsets a provider (see loadConfig). */
  env?: Record<string, string>;
}): Promise<DirectTestApp> {
  const recognizer = phraseRecognizer(options.exchanges.map((e) => e.question));
  const transcripts: string[] = [];
  const openai = await startOpenAIEmulator({
    reply: options.reply ?? scriptedReply(options.exchanges),
    transcribe: async (audio) => {
      const text = await recognizer.wav(audio);
      transcripts.push(text);
      return text;
    },
  });
  const cartesia = await startCartesiaEmulator();
  const database = await openTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: 'test-key',
    CARTESIA_BASE_URL: cartesia.baseURL,
    CARTESIA_API_KEY: 'test-key',
    PROVIDER_MAX_RETRIES: '0',
    RATE_LIMIT_PER_MINUTE: '1000',
    DIRECT_MAX_CALLS: '20',
    ...options.env,
  });
  const logger = createLogger({ level: process.env.E2E_LOG_LEVEL ?? 'silent' });
  const parley = await composeParley(config, {
    database,
    logger,
    ...(options.peer === undefined ? {} : { peer: options.peer }),
  });
  const { app, brain, calls } = parley;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    config,
    database,
    brain,
    calls,
    openai,
    cartesia,
    transcripts,
    async close() {
      await parley.close();
      await database.close();
      await openai.close();
      await cartesia.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A signed-in user of the test app, through its dev-session endpoint, as the page does it. */
export async function devSession(baseUrl: string): Promise<{ token: string; userId: string }> {
  const response = await fetch(`${baseUrl}/auth/dev/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Tester' }),
  });
  if (!response.ok) throw new Error(`dev session: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { access_token: string; user: { id: string } };
  return { token: body.access_token, userId: body.user.id };
}

/** Creates a character through the API and returns its id. */
export async function createCharacter(
  baseUrl: string,
  token: string,
  name: string,
): Promise<string> {
  const response = await fetch(`${baseUrl}/api/characters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name, instructions: `You are ${name}. Answer in one sentence.` }),
  });
  if (response.status !== 201) {
    throw new Error(`create character: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()) as { id: string }).id;
}

/** Polls `condition` until it holds; fails with `what` after `limitMs` (a bound, not a check). */
export async function until(what: string, condition: () => boolean, limitMs = 60_000) {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

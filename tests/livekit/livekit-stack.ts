import { cp, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose } from '@livekit/rtc-node';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { type DatabaseHandle, openDatabase } from '../../db/client.js';
import { composeParley, type Parley } from '../../token-service/compose.js';
import {
  type CartesiaEmulator,
  startCartesiaEmulator,
} from '../dev-tools/providers/cartesia-emulator.js';
import {
  type OpenAIEmulator,
  type OpenAIEmulatorOptions,
  startOpenAIEmulator,
} from '../dev-tools/providers/openai-emulator.js';
import { copyTemplate, serveOverWire, type WireServer } from '../helpers/database.js';
import { startWorkerProcess, type WorkerProcess } from '../worker/worker-process.js';
import { startFakeLiveKitServer } from './fake-livekit-server.js';
import { startRoomServerProcess } from './room-server-process.js';
import type { RoomServer } from './room-server-view.js';

/**
 * Parley deployed as with LiveKit, for one test file: the test LiveKit room server (its own
 * process, as a real LiveKit server is, unless a test asks for it in this one), the API
 * (`npm start` with `AGENT_WORKER=off`, in this process) and the agent worker (`npm run agent`,
 * its own process, forking job processes), both on one database served over the PostgreSQL
 * wire protocol, with the OpenAI and Cartesia emulators behind them.
 */
export interface LiveKitStack {
  server: RoomServer;
  /** `http://127.0.0.1:PORT` of the API and the page. */
  baseUrl: string;
  api: Parley;
  /** The API's own connection to the shared database, for assertions. */
  database: DatabaseHandle;
  worker: WorkerProcess;
  openai: OpenAIEmulator;
  cartesia: CartesiaEmulator;
  agentName: string;
  /** The PostgreSQL URL the API and the worker share (PGlite served over the wire). */
  databaseUrl: string;
  /** What a room token for the test room server needs. */
  livekit: { url: string; apiKey: string; apiSecret: string };
  close(): Promise<void>;
}

const apiKey = 'livekit-stack-key';
const apiSecret = 'livekit-stack-secret-long-enough-for-hs256';

/** Starts the stack; `worker` adds environment to the worker process (e.g. provider retries). */
export async function startLiveKitStack(
  options: {
    openai?: OpenAIEmulatorOptions;
    worker?: Record<string, string>;
    agentName?: string;
    /**
     * Where the test LiveKit server runs. Default `process`: a child process, so that its
     * forwarding of every room's media never waits for this process (which plays the users'
     * microphones, serves the API and the database) and the other way round; `in-process`
     * for a test that needs the server's own objects.
     */
    roomServer?: 'process' | 'in-process';
    /**
     * A migrated embedded database to copy, for use outside vitest (the bench), where the
     * suite's template (`inject`) does not exist.
     */
    databaseTemplateDir?: string;
  } = {},
): Promise<LiveKitStack> {
  const agentName = options.agentName ?? 'parley-stack-test';
  const parts: Partial<LiveKitStack> & { wire?: WireServer; dirs: string[] } = { dirs: [] };
  try {
    const serverOptions = { apiKey, apiSecret, waitTimeoutMs: 120_000 };
    parts.server =
      options.roomServer === 'in-process'
        ? await startFakeLiveKitServer({ ...serverOptions, rooms: true })
        : await startRoomServerProcess(serverOptions);
    parts.openai = await startOpenAIEmulator(options.openai);
    parts.cartesia = await startCartesiaEmulator();
    const dataDir = await copyDatabase(options.databaseTemplateDir);
    parts.dirs.push(dataDir);
    parts.wire = await serveOverWire(dataDir, 10);
    const livekit = {
      LIVEKIT_URL: parts.server.url,
      LIVEKIT_API_KEY: apiKey,
      LIVEKIT_API_SECRET: apiSecret,
      LIVEKIT_AGENT_NAME: agentName,
    };
    const providers = {
      OPENAI_API_KEY: 'emulator',
      OPENAI_BASE_URL: parts.openai.baseURL,
      CARTESIA_API_KEY: 'emulator',
      CARTESIA_BASE_URL: parts.cartesia.baseURL,
    };
    parts.worker = startWorkerProcess({
      ...livekit,
      ...providers,
      DATABASE_URL: parts.wire.url,
      DATABASE_POOL_SIZE: '1',
      // Four job processes starting at once beside the test's SFU, emulators and database,
      // on two busy cores, took over 30 s each: the worker killed and restarted them until
      // a room's dispatch gave up (many-rooms beside room-turns, two burners, load 20).
      AGENT_JOB_START_TIMEOUT_MS: '120000',
      LOG_LEVEL: 'info',
      ...options.worker,
    });
    const apiDir = await mkdtemp(join(tmpdir(), 'parley-lk-api-'));
    parts.dirs.push(apiDir);
    parts.database = await openDatabase({ url: parts.wire.url, dataDir: apiDir, poolSize: 2 });
    const config = loadConfig({
      ...livekit,
      ...providers,
      DATA_DIR: apiDir,
      HOST: '127.0.0.1',
      AGENT_WORKER: 'off',
      RATE_LIMIT_PER_MINUTE: '1000',
    });
    const logger = createLogger({ level: process.env.E2E_LOG_LEVEL ?? 'silent' });
    parts.api = await composeParley(config, { database: parts.database, logger });
    await parts.api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = parts.api.app.server.address() as AddressInfo;
    await parts.server.waitForWorker(agentName);
    return {
      ...(parts as Required<typeof parts>),
      agentName,
      livekit: { url: parts.server.url, apiKey, apiSecret },
      databaseUrl: parts.wire.url,
      baseUrl: `http://127.0.0.1:${port}`,
      close: () => closeAll(parts),
    };
  } catch (error) {
    await closeAll(parts);
    throw error;
  }
}

/** A private copy of `templateDir`, or of the suite's template when none is given. */
async function copyDatabase(templateDir: string | undefined): Promise<string> {
  if (templateDir === undefined) return copyTemplate();
  const dir = await mkdtemp(join(tmpdir(), 'parley-lk-db-'));
  await cp(templateDir, dir, { recursive: true });
  return dir;
}

/** Stops whatever of the stack was started, the worker first (it holds rooms and the database). */
async function closeAll(
  parts: Partial<LiveKitStack> & { wire?: WireServer; dirs: string[] },
): Promise<void> {
  const { worker } = parts;
  if (worker !== undefined && worker.child.exitCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited();
  }
  await parts.api?.close();
  await parts.database?.close();
  await parts.server?.close();
  await parts.openai?.close();
  await parts.cartesia?.close();
  await parts.wire?.stop();
  for (const dir of parts.dirs) await rm(dir, { recursive: true, force: true });
  await dispose();
}

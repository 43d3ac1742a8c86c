/**
 * Parley as `npm start` builds it (`composeParley`: the brain, direct WebRTC calls with Silero
 * loaded once, the HTTP app with its embedded issuer and dev sessions) on embedded PGlite, in
 * a process of its own so its CPU time can be read from /proc. It answers IPC requests for its
 * memory and event loop delay, and can record a CPU profile of a window on request.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { initializeLogger } from '@livekit/agents';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../db/client.js';
import { LOOPBACK_ICE } from '../tests/helpers/test-browser.js';
import { composeParley } from '../token-service/compose.js';
import { isBenchChild, nextMessage, stopChild } from './child.js';

/** What the server reports about itself. */
export interface ServerUsage {
  /** Bytes, after two full garbage collections. */
  rss: number;
  heapUsed: number;
  external: number;
  /** Calls running now. */
  calls: number;
  /** Event loop delay since the previous report, milliseconds. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

type Request =
  | { type: 'start'; env: Record<string, string> }
  | { type: 'usage' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string };

export interface RemoteServer {
  pid: number;
  baseUrl: string;
  usage(): Promise<ServerUsage>;
  /** Starts V8's sampling profiler in the server. */
  startProfile(): Promise<void>;
  /** Stops it and writes the `.cpuprofile` (open in Chrome DevTools) to `path`. */
  stopProfile(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server in a child process with `env` added to its configuration. */
export async function startSessionsServer(env: Record<string, string>): Promise<RemoteServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--bench-child'], {
    // --expose-gc: memory is read after full collections, so it is what the calls hold.
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = async <T>(request: Request, reply: string): Promise<T> => {
    const answer = nextMessage<T>(child, (m) => (m as { type?: string }).type === reply);
    child.send(request);
    return answer;
  };
  const { baseUrl } = await ask<{ baseUrl: string }>({ type: 'start', env }, 'ready');
  return {
    pid: child.pid ?? 0,
    baseUrl,
    usage: () => ask<ServerUsage>({ type: 'usage' }, 'usage'),
    startProfile: () => ask({ type: 'profile-start' }, 'profiling'),
    stopProfile: (path) => ask({ type: 'profile-stop', path }, 'profiled'),
    close: () => stopChild(child),
  };
}

async function serve(env: Record<string, string>): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-sessions-'));
  const database = await openDatabase({ dataDir });
  await database.migrate();
  const config = loadConfig({ ...env, DATA_DIR: dataDir, HOST: '127.0.0.1' });
  initializeLogger({
    pretty: false,
    level: config.logLevel === 'silent' ? 'fatal' : config.logLevel,
  });
  const logger = createLogger({ level: config.logLevel });
  const parley = await composeParley(config, { database, logger, peer: LOOPBACK_ICE });
  await parley.app.listen({ host: '127.0.0.1', port: 0 });
  process.once('SIGTERM', () => {
    // Whatever is stored is thrown away with the data directory; no need to drain calls.
    void rm(dataDir, { recursive: true, force: true }).finally(() => process.exit(0));
  });
  const { port } = parley.app.server.address() as AddressInfo;
  callsRunning = () => parley.calls.size;
  return `http://127.0.0.1:${port}`;
}

let callsRunning = () => 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let profiler: Session | undefined;

function usage(): ServerUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const memory = process.memoryUsage();
  const report: ServerUsage = {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    calls: callsRunning(),
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
  loopDelay.reset();
  return report;
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'start') {
    const baseUrl = await serve(request.env);
    loopDelay.enable();
    process.send?.({ type: 'ready', baseUrl });
  } else if (request.type === 'usage') {
    process.send?.({ type: 'usage', ...usage() });
  } else if (request.type === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    process.send?.({ type: 'profiling' });
  } else {
    const result = await profiler?.post('Profiler.stop');
    await writeFile(request.path, JSON.stringify(result?.profile ?? {}));
    profiler?.disconnect();
    process.send?.({ type: 'profiled' });
  }
}

if (isBenchChild()) {
  process.on('message', (request) => void handle(request as Request));
}

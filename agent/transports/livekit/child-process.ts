import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../core/config.js';
import type { Logger } from '../../../core/logger.js';

/** The worker's entry, run by `npm run agent` too. */
const WORKER_ENTRY = fileURLToPath(new URL('../../main.ts', import.meta.url));

/** How long the worker may drain on shutdown before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

export interface WorkerProcess {
  /** Asks the worker to drain (SIGTERM), and kills it if it takes too long. */
  stop(): Promise<void>;
}

/**
 * With LiveKit configured, `npm start` also runs an agent worker, as a child process, unless
 * `AGENT_WORKER=off` (the API alone, with workers run as `npm run agent` elsewhere). The
 * worker runs each conversation in a process of its own, so it cannot share the server's
 * embedded database and needs `DATABASE_URL`. Without one, it says so and starts nothing.
 */
export function startWorkerProcess(
  config: Pick<Config, 'livekit' | 'database'>,
  logger: Logger,
): WorkerProcess | undefined {
  if (config.livekit.url === undefined) return undefined;
  if (!config.livekit.apiRunsWorker) {
    logger.info('AGENT_WORKER=off: serving the API only; run agent workers with npm run agent');
    return undefined;
  }
  if (config.database.url === undefined) {
    logger.warn(
      'LIVEKIT_URL is set but DATABASE_URL is not: the LiveKit agent worker needs a PostgreSQL ' +
        'database its conversation processes share, so LiveKit rooms get no agent. Set ' +
        'DATABASE_URL, or unset LIVEKIT_URL to talk over direct WebRTC.',
    );
    return undefined;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY, 'start'], {
    env: process.env,
    stdio: 'inherit',
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) logger.error({ code, signal }, 'the LiveKit agent worker exited');
  });
  logger.info(
    { agentName: config.livekit.agentName, pid: child.pid },
    'LiveKit agent worker started (AGENT_WORKER=off serves the API alone)',
  );
  return { stop: () => stopChild(child, () => (stopping = true)) };
}

async function stopChild(child: ChildProcess, markStopping: () => void): Promise<void> {
  markStopping();
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

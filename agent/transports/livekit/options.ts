import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerOptions } from '@livekit/agents';
import type { Config } from '../../../core/config.js';
import { AppError } from '../../../core/errors.js';

/**
 * The file each job process imports: it holds the agent (prewarm and entry). It is `.ts`
 * under tsx (the job processes inherit tsx's loader through `execArgv`), `.js` once compiled.
 */
export const JOB_FILE = fileURLToPath(new URL(`./job${extname(import.meta.url)}`, import.meta.url));

/**
 * How long SIGTERM lets running conversations finish before they are closed anyway (their
 * transcripts are still flushed then). Keep it below the orchestrator's grace period
 * (`stop_grace_period: 10m` in docker-compose.yml), which must also cover the minute agents
 * gives job processes to close.
 */
export const DRAIN_TIMEOUT_MS = 8 * 60_000;

export type WorkerConfig = Pick<Config, 'livekit' | 'logLevel'> & {
  http: Pick<Config['http'], 'host'>;
};

/**
 * The worker's options: explicit dispatch under the configured agent name (LiveKit sends it
 * only the jobs a token or a dispatch names it for), LiveKit's URL and keys. `cli.runApp`
 * adds production defaults for the rest (idle job processes); the health server listens on
 * `HOST`:`AGENT_HTTP_PORT`, like the API on `HOST`.
 */
export function workerOptions(config: WorkerConfig, agentFile: string = JOB_FILE): ServerOptions {
  const { url, apiKey, apiSecret, agentName } = config.livekit;
  if (url === undefined || apiKey === undefined || apiSecret === undefined) {
    throw new AppError(
      'LIVEKIT.NOT_CONFIGURED',
      'The agent worker needs LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET',
    );
  }
  return new ServerOptions({
    agent: agentFile,
    agentName,
    wsURL: url,
    apiKey,
    apiSecret,
    drainTimeout: DRAIN_TIMEOUT_MS,
    // A job process compiles the agent with tsx, loads the agents framework and Silero before
    // it can take a job: seconds on a busy small machine, past agents' 10 s default.
    initializeProcessTimeout: config.livekit.processStartTimeoutMs,
    logLevel: config.logLevel,
    host: config.http.host,
    port: config.livekit.workerHttpPort,
  });
}

/**
 * The database URL the worker's job processes share. Each conversation runs in its own
 * process, and the embedded database belongs to one process, so the worker needs PostgreSQL.
 */
export function requireDatabaseUrl(config: Pick<Config, 'database'>): string {
  if (config.database.url !== undefined) return config.database.url;
  throw new AppError(
    'CONFIG.INVALID',
    'DATABASE_URL is not set: the agent worker runs each conversation in its own process, ' +
      'and the embedded database serves one process only. Set DATABASE_URL to the ' +
      'PostgreSQL (with pgvector) database the API uses.',
    { details: ['DATABASE_URL: required by the agent worker'] },
  );
}

/**
 * Connections one job process may hold. Every conversation runs in its own process with its
 * own pool, so a pool of `DATABASE_POOL_SIZE` (10) each would make 50 conversations need 500
 * connections. A conversation queries one thing at a time (history, retrieval, a transcript
 * write); two leave room for a transcript write during a retrieval.
 */
export const JOB_DATABASE_POOL_SIZE = 2;

/** The pool size of a job process: `DATABASE_POOL_SIZE`, at most {@link JOB_DATABASE_POOL_SIZE}. */
export function jobDatabasePoolSize(config: Pick<Config, 'database'>): number {
  return Math.min(config.database.poolSize, JOB_DATABASE_POOL_SIZE);
}

/**
 * `npm start`: the composition root of the token service. Reads the configuration once,
 * opens and migrates the database, sets up authentication and the brain, serves the app, and
 * shuts down gracefully. A start-up failure prints one line to stderr and exits 1.
 */
import type { AddressInfo } from 'node:net';
import { initializeLogger } from '@livekit/agents';
import {
  startWorkerProcess,
  type WorkerProcess,
} from '../agent/transports/livekit/child-process.js';
import { describeProviders } from '../agent/transports/webrtc/setup.js';
import { type Config, loadConfig } from '../core/config.js';
import { isAppError } from '../core/errors.js';
import { createLogger, type Logger, resolveLogFormat } from '../core/logger.js';
import { type DatabaseHandle, openDatabase } from '../db/client.js';
import type { App } from './app.js';
import { composeParley, type Parley } from './compose.js';

/** Longest a shutdown may take (replies being stored, buffered transcripts) before exiting. */
const SHUTDOWN_TIMEOUT_MS = 20_000;

/** Everything `main` opened, in the order it must be closed. */
interface Running {
  worker: WorkerProcess | undefined;
  parley: Parley;
  database: DatabaseHandle;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const format = resolveLogFormat(config.logFormat);
  const logger = createLogger({ level: config.logLevel, name: 'parley', format });
  // The agents framework wants its logger before any of it runs.
  initializeLogger({
    pretty: format === 'pretty',
    level: config.logLevel === 'silent' ? 'fatal' : config.logLevel,
  });
  const database = await openMigratedDatabase(config, logger);
  const running = await serve(config, logger, database);
  onShutdownSignal(logger, () => stop(running));
}

/** The database named by `DATABASE_URL`, or the embedded one in the data directory, migrated. */
async function openMigratedDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    poolSize: config.database.poolSize,
    applicationName: 'parley-api',
  });
  try {
    const report = await database.migrate();
    logger.info(report, 'database migrated');
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Builds the app on the brain and the database, and listens. */
async function serve(config: Config, logger: Logger, database: DatabaseHandle): Promise<Running> {
  const parley = await composeParley(config, { database, logger });
  const { app } = parley;
  await app.listen({ host: config.http.host, port: config.http.port });
  const url = openUrl(config, app);
  logger.info({ url, database: database.driver }, 'Parley is listening');
  const providers = describeProviders(config);
  for (const line of providers.lines) {
    if (providers.missing) logger.warn(line);
    else logger.info(line);
  }
  process.stdout.write(`Parley is ready: open ${url} in a browser\n`);
  const worker = startWorkerProcess(config, logger);
  return { worker, parley, database };
}

/** Where a person should point the browser: the public URL, or the bound address. */
function openUrl(config: Config, app: App): string {
  if (config.http.publicUrl !== undefined) return config.http.publicUrl;
  const { port } = app.server.address() as AddressInfo;
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** Stops taking requests, lets turns and ingestion finish, flushes transcripts, closes the db. */
async function stop({ worker, parley, database }: Running): Promise<void> {
  // Parley first: hanging up calls stores what was said, and needs the database. The LiveKit
  // worker drains its own conversations meanwhile.
  await Promise.all([worker?.stop(), parley.close()]);
  await database.close();
}

function onShutdownSignal(logger: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
}

/** One line for a person: what went wrong and, for our own errors, nothing more. */
function startupFailureLine(error: unknown): string {
  if (isAppError(error)) return `parley: ${oneLine(error.message)}`;
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return `parley: cannot listen: ${(error as Error).message}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `parley: failed to start: ${oneLine(message)}`;
}

/** "Problems:\n  a\n  b" becomes "Problems: a; b". */
function oneLine(message: string): string {
  return message.replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ');
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureLine(error)}\n`);
  process.exit(1);
});

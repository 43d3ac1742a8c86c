/**
 * `npm run agent`: the LiveKit agent worker. It registers with LiveKit under
 * `LIVEKIT_AGENT_NAME` and runs each dispatched conversation in a job process
 * (agent/transports/livekit/job.ts). `npm run agent` starts it for production; the agents CLI's other
 * commands work too (`npm run agent -- dev`, `npm run agent -- --help`).
 *
 * SIGTERM (and Ctrl-C) drains: the worker takes no new jobs, running conversations go on
 * until the user leaves or `DRAIN_TIMEOUT_MS` passes, and each job stores its remaining
 * transcript before its process exits.
 */
import { cli } from '@livekit/agents';
import { loadConfig } from '../core/config.js';
import { isAppError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../db/client.js';
import { drainAwareLoad, watchDrainSignals } from './transports/livekit/drain-load.js';
import { healthPort } from './transports/livekit/health-port.js';
import { requireDatabaseUrl, workerOptions } from './transports/livekit/options.js';

const logger = createLogger({ level: 'info', name: 'parley-agent' });

try {
  const config = loadConfig();
  const options = workerOptions(config);
  options.port = await healthPort(options.host, options.port);
  // Once draining, the worker stays "full" to LiveKit (agents alone flips back to available).
  options.loadFunc = drainAwareLoad(options.loadFunc, watchDrainSignals());
  // Fail here, once, rather than in every job: the database must be reachable and migrated.
  const database = await openDatabase({
    url: requireDatabaseUrl(config),
    dataDir: config.dataDir,
    poolSize: 1,
    applicationName: 'parley-worker',
  });
  try {
    logger.info(await database.migrate(), 'database migrated');
  } finally {
    await database.close();
  }
  if (process.argv.length <= 2) process.argv.push('start');
  cli.runApp(options);
} catch (error) {
  logger.fatal(
    { code: isAppError(error) ? error.code : undefined, reason: String(error) },
    'agent worker cannot start',
  );
  process.exit(1);
}

import { once } from 'node:events';
import { createServer } from 'node:net';
import { AppError } from '../../core/errors.js';

/**
 * Fails with one clear `CONFIG.INVALID` when the worker's health port is taken. agents binds
 * it without an error listener, so a conflict would otherwise crash the worker with an
 * unhandled `EADDRINUSE` stack, typically because `npm start` already runs a worker here.
 * Port 0 (any free port) cannot conflict.
 */
export async function checkHealthPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    probe.listen(port, host);
    await once(probe, 'listening');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AppError(
      'CONFIG.INVALID',
      `The agent worker's health port ${host}:${port} (AGENT_HTTP_PORT) is ` +
        `${code === 'EADDRINUSE' ? 'in use' : `not available (${String(code)})`}: another ` +
        'worker may be running there (npm start runs one when LIVEKIT_URL and DATABASE_URL ' +
        'are set, unless AGENT_WORKER=off). Stop it, or set another AGENT_HTTP_PORT.',
      { cause: error, details: [`AGENT_HTTP_PORT: ${host}:${port} is taken`] },
    );
  } finally {
    if (probe.listening) await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

import { once } from 'node:events';
import { createServer } from 'node:net';
import { AppError } from '../../../core/errors.js';

/**
 * The worker's health port, checked free. Fails with one clear `CONFIG.INVALID` when it is
 * taken: agents binds it without an error listener, so a conflict would otherwise crash the
 * worker with an unhandled `EADDRINUSE` stack, typically because `npm start` already runs a
 * worker here. Port 0 means any free port, which agents cannot express (it reads 0 as its
 * default, 8081), so a free one is picked here.
 */
export async function healthPort(host: string, port: number): Promise<number> {
  const probe = createServer();
  try {
    probe.listen(port, host);
    await once(probe, 'listening');
    const address = probe.address();
    return typeof address === 'object' && address !== null ? address.port : port;
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

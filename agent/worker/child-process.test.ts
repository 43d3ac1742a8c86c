import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startWorkerProcess } from './child-process.js';

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const livekit = {
  LIVEKIT_URL: 'wss://livekit.parley.test',
  LIVEKIT_API_KEY: 'APIkey',
  LIVEKIT_API_SECRET: 'secret-that-is-long-enough-0123456789',
};

describe('the LiveKit worker started by npm start', () => {
  it('is not started without LiveKit', () => {
    const { logger, lines } = capturingLogger();
    expect(startWorkerProcess(loadConfig({}), logger)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('is not started on the embedded database, and says why', () => {
    const { logger, lines } = capturingLogger();
    expect(startWorkerProcess(loadConfig(livekit), logger)).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 40,
      msg: expect.stringContaining('DATABASE_URL is not'),
    });
  });
});

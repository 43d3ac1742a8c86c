import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { createLogger } from '../../../core/logger.js';
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

  it('is not started with AGENT_WORKER=off, which serves the API alone', () => {
    const { logger, lines } = capturingLogger();
    const config = loadConfig({
      ...livekit,
      DATABASE_URL: 'postgres://parley:pw@127.0.0.1:1/parley',
      AGENT_WORKER: 'off',
    });
    expect(startWorkerProcess(config, logger)).toBeUndefined();
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 30, msg: expect.stringContaining('API only') }),
    ]);
  });
});

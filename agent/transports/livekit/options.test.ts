import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { AppError } from '../../../core/errors.js';
import {
  DRAIN_TIMEOUT_MS,
  JOB_FILE,
  jobDatabasePoolSize,
  requireDatabaseUrl,
  workerOptions,
} from './options.js';

const livekit = {
  LIVEKIT_URL: 'wss://parley.livekit.cloud',
  LIVEKIT_API_KEY: 'APIkey',
  LIVEKIT_API_SECRET: 'secret',
};

describe('workerOptions', () => {
  it('registers for explicit dispatch under the configured name, with LiveKit’s URL and keys', () => {
    const options = workerOptions(loadConfig({ ...livekit, LIVEKIT_AGENT_NAME: 'mira-voice' }));
    expect(options).toMatchObject({
      agentName: 'mira-voice',
      wsURL: 'wss://parley.livekit.cloud',
      apiKey: 'APIkey',
      apiSecret: 'secret',
      agent: JOB_FILE,
      drainTimeout: DRAIN_TIMEOUT_MS,
    });
    expect(existsSync(options.agent)).toBe(true);
  });

  it('binds the health endpoint to HOST, as the API does', () => {
    const options = workerOptions(loadConfig({ ...livekit, HOST: '10.1.2.3' }));
    expect(options).toMatchObject({ host: '10.1.2.3', port: 8081 });
  });

  it('gives a job process AGENT_JOB_START_TIMEOUT_MS to start, 30 s by default', () => {
    expect(workerOptions(loadConfig(livekit)).initializeProcessTimeout).toBe(30_000);
    const slow = loadConfig({ ...livekit, AGENT_JOB_START_TIMEOUT_MS: '120000' });
    expect(workerOptions(slow).initializeProcessTimeout).toBe(120_000);
  });

  it('uses the default agent name the token service dispatches', () => {
    expect(workerOptions(loadConfig(livekit)).agentName).toBe('parley-character');
  });

  it('refuses to build without LiveKit', () => {
    expect(() => workerOptions(loadConfig({}))).toThrow(
      expect.objectContaining({ code: 'LIVEKIT.NOT_CONFIGURED' }),
    );
  });
});

describe('requireDatabaseUrl', () => {
  it('returns the PostgreSQL URL', () => {
    const url = 'postgres://parley:pw@db:5432/parley';
    expect(requireDatabaseUrl(loadConfig({ DATABASE_URL: url }))).toBe(url);
  });

  it('explains that the embedded database cannot serve job processes', () => {
    let error: unknown;
    try {
      requireDatabaseUrl(loadConfig({}));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'CONFIG.INVALID' });
    expect((error as AppError).message).toMatch(/DATABASE_URL is not set.*own process/);
  });
});

describe('jobDatabasePoolSize', () => {
  it('holds a job process to two connections, whatever the API pool is', () => {
    expect(jobDatabasePoolSize(loadConfig({}))).toBe(2);
    expect(jobDatabasePoolSize(loadConfig({ DATABASE_POOL_SIZE: '40' }))).toBe(2);
    expect(jobDatabasePoolSize(loadConfig({ DATABASE_POOL_SIZE: '1' }))).toBe(1);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from './config.js';
import { AppError } from './errors.js';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir).toBe('.data');
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8000 });
    expect(config.livekit.url).toBeUndefined();
  });

  it('reports every invalid variable at once, by name', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SUPABASE_URL: 'not a url' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const message = (caught as AppError).message;
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('SUPABASE_URL');
    expect((caught as AppError).code).toBe('CONFIG.INVALID');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: ' ' }).http.port).toBe(8000);
  });

  it('wants all three LiveKit variables or none', () => {
    expect(() => loadConfig({ LIVEKIT_URL: 'wss://x.livekit.cloud' })).toThrow(/LIVEKIT_API_KEY/);
  });

  it('keeps the endpointing delays in order: min, unsure, max', () => {
    expect(loadConfig({}).voice.endpointing).toEqual({
      minDelayMs: 600,
      unsureDelayMs: 2_000,
      maxDelayMs: 3_000,
    });
    // A maximum under the default middle pulls the middle down with it.
    expect(loadConfig({ TURN_MAX_DELAY_MS: '1500' }).voice.endpointing.unsureDelayMs).toBe(1_500);
    expect(() => loadConfig({ TURN_UNSURE_DELAY_MS: '4000' })).toThrow(/TURN_UNSURE_DELAY_MS/);
    expect(() => loadConfig({ TURN_MIN_DELAY_MS: '4000' })).toThrow(/TURN_MIN_DELAY_MS/);
    const vad = { TURN_DETECTION: 'vad', TURN_MIN_DELAY_MS: '4000' };
    expect(loadConfig(vad).voice.endpointing.minDelayMs).toBe(4_000);
  });

  it('caps the JWKS cache at Supabase guidance of 20 minutes', () => {
    expect(() => loadConfig({ JWKS_CACHE_MS: String(30 * 60_000) })).toThrow(/JWKS_CACHE_MS/);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});

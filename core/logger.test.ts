import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { createLogger, type LogFormat, resolveLogFormat } from './logger.js';

/** A logger of `format` writing into a string, as the process would write to stdout. */
function capture(format: LogFormat) {
  let text = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'info', name: 'parley', format, destination });
  return { logger, text: () => text };
}

describe('log format', () => {
  it('is readable lines in a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow('LOG_FORMAT');
  });

  it('pretty: one human-readable line per entry, with level, message and fields', () => {
    const { logger, text } = capture('pretty');
    logger.info({ url: 'http://127.0.0.1:8000/' }, 'Parley is listening');
    logger.warn({ openai: { apiKey: 'sk-secret' } }, 'provider key shown?');
    const output = text();
    expect(output).toMatch(/INFO.*\(parley\): Parley is listening/);
    expect(output).toContain('url: "http://127.0.0.1:8000/"');
    expect(output).toMatch(/WARN.*provider key shown\?/);
    // Secrets stay redacted whatever the format, and nothing is JSON or colour codes.
    expect(output).not.toContain('sk-secret');
    expect(output).not.toContain('{"level"');
    expect(output).not.toContain('\u001b[');
  });

  it('json: one JSON object per line', () => {
    const { logger, text } = capture('json');
    logger.info({ documents: 3 }, 'pending documents embedded');
    const [line] = text().trim().split('\n');
    expect(JSON.parse(line ?? '')).toMatchObject({
      level: 30,
      name: 'parley',
      documents: 3,
      msg: 'pending documents embedded',
    });
  });
});

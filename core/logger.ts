import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Paths pino must never print. Tokens, keys and secrets stay out of logs whatever a caller
 * passes as log data.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  '*.token',
  '*.accessToken',
  '*.participant_token',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.password',
];

/** Builds the process logger. Tests pass `level: 'silent'`. */
export function createLogger(options: { level: string; name?: string }): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.name !== undefined) pinoOptions.name = options.name;
  return pino(pinoOptions);
}

import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

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

/**
 * Builds the process logger. Tests pass `level: 'silent'`, or a `destination` to read what
 * would have been logged.
 */
export function createLogger(options: {
  level: string;
  name?: string;
  destination?: DestinationStream;
}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.name !== undefined) pinoOptions.name = options.name;
  return options.destination === undefined
    ? pino(pinoOptions)
    : pino(pinoOptions, options.destination);
}

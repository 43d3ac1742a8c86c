import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { build as prettyStream } from 'pino-pretty';

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

/** How log lines look: one JSON object each, or pino-pretty's lines for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * `LOG_FORMAT` as it applies to this process: `auto` is pretty when a person watches stdout
 * (a terminal) and JSON when it goes to a file, a pipe or a log collector.
 */
export function resolveLogFormat(
  setting: LogFormat | 'auto',
  stdoutIsTerminal: boolean = process.stdout.isTTY === true,
): LogFormat {
  if (setting !== 'auto') return setting;
  return stdoutIsTerminal ? 'pretty' : 'json';
}

/**
 * Builds the process logger. Tests pass `level: 'silent'`, or a `destination` to read what
 * would have been logged. `pretty` formats in this thread (pino-pretty as a stream, not a
 * transport worker), so lines are not lost when the process exits.
 */
export function createLogger(options: {
  level: string;
  name?: string;
  destination?: DestinationStream;
  format?: LogFormat;
}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.name !== undefined) pinoOptions.name = options.name;
  if (options.format === 'pretty') {
    const destination = options.destination ?? process.stdout;
    const stream = prettyStream({
      destination,
      colorize: destination === process.stdout && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      sync: true,
    });
    return pino(pinoOptions, stream);
  }
  return options.destination === undefined
    ? pino(pinoOptions)
    : pino(pinoOptions, options.destination);
}

import { spawn } from 'node:child_process';

/** Debian's pocketsphinx 5prealpha CLI (package `pocketsphinx`, model `pocketsphinx-en-us`). */
export const POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';

/** How a pocketsphinx run ended. */
export type PocketsphinxOutcome =
  | { kind: 'text'; text: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'missing' }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

/**
 * Decodes a 16 kHz mono 16-bit WAV file (its name must end in `.wav`, or the CLI reads it as
 * raw samples). With `grammarPath` only that JSGF grammar's sentences can be recognised.
 * Each utterance the CLI finds is printed on a line; they are joined with spaces.
 */
export function runPocketsphinx(options: {
  wavPath: string;
  grammarPath?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  command?: string;
}): Promise<PocketsphinxOutcome> {
  const args = ['-infile', options.wavPath];
  if (options.grammarPath !== undefined) args.push('-jsgf', options.grammarPath);
  const child = spawn(options.command ?? POCKETSPHINX_COMMAND, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve({ kind: 'missing' });
      else if (error.name === 'AbortError') resolve({ kind: 'aborted' });
      else resolve({ kind: 'failed', reason: error.message });
    });
    child.on('close', (code, signal) => {
      if (options.signal?.aborted) return resolve({ kind: 'aborted' });
      if (signal === 'SIGKILL') return resolve({ kind: 'timeout' });
      const log = Buffer.concat(stderr).toString('utf8');
      if (code !== 0) return resolve({ kind: 'failed', reason: errorLines(log, code) });
      resolve({ kind: 'text', text: joinUtterances(Buffer.concat(stdout).toString('utf8')) });
    });
  });
}

function joinUtterances(stdout: string): string {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

/** The CLI logs everything to stderr; only its ERROR and FATAL lines explain a failure. */
function errorLines(log: string, code: number | null): string {
  const lines = log.split('\n').filter((line) => /^(ERROR|FATAL)/.test(line));
  return lines.length > 0 ? lines.join('; ') : `exited with code ${code}`;
}

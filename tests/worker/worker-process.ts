import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One JSON log line of the worker or of one of its job processes. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** `npm run agent` as a child process, with its log lines parsed as they arrive. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Every JSON line written to stdout so far (job processes share the worker's stdout). */
  readonly logs: readonly LogLine[];
  /** Everything written that was not a JSON line (stderr included), for failure messages. */
  readonly otherOutput: readonly string[];
  /** Resolves with the first log line matching `match`; rejects after `timeoutMs` or on exit. */
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the first value `probe` returns, re-checked on every output. */
  waitUntil<T>(probe: () => T | undefined, what: string, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** Ends the worker at once (SIGKILL) if it still runs, and waits until it has exited. */
  kill(): Promise<void>;
}

/**
 * Starts the worker exactly as docker-compose.yml does (`node --import tsx agent/main.ts
 * start`; `npm run agent` runs the same entry), with only the given environment plus PATH
 * and HOME, so nothing from the test runner leaks in; its health endpoint on any free port
 * unless the test names one, so workers of tests running side by side never collide.
 */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'agent/main.ts', 'start'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      AGENT_HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const otherOutput: string[] = [];
  const listeners = new Set<() => void>();
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  void exit.then(() => {
    for (const listener of listeners) listener();
  });

  const collect = (stream: NodeJS.ReadableStream | null) => {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = parseJsonLine(line);
        if (parsed === undefined) otherOutput.push(line);
        else logs.push(parsed);
      }
      for (const listener of listeners) listener();
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  const waitUntil = <T>(probe: () => T | undefined, what: string, timeoutMs = 90_000) =>
    new Promise<T>((resolve, reject) => {
      let exitedAlready = child.exitCode !== null || child.signalCode !== null;
      const check = () => {
        const found = probe();
        if (found !== undefined) return done(() => resolve(found));
        exitedAlready ||= child.exitCode !== null || child.signalCode !== null;
        if (exitedAlready) done(() => reject(failure(`the worker exited before ${what}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(failure(`no ${what} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      const failure = (message: string) =>
        new Error(`${message}\n--- output ---\n${otherOutput.slice(-40).join('\n')}`);
      listeners.add(check);
      check();
    });

  return {
    child,
    logs,
    otherOutput,
    exited: () => exit,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
    waitUntil,
    waitForLog: (match, what, timeoutMs) => waitUntil(() => logs.find(match), what, timeoutMs),
  };
}

function parseJsonLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

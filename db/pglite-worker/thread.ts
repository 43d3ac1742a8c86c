/**
 * The thread that owns the embedded database (see `client.ts`): opens PGlite with pgvector and
 * answers requests from the main thread, so PostgreSQL's work (all of it synchronous
 * WebAssembly) never holds the event loop that carries WebSocket frames, audio and HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type Envelope, type Ready, type Reply, type Request, serializeError } from './protocol.js';

interface OpenTransaction {
  tx: Transaction;
  /** Lets the transaction's callback return: commit, or roll back. */
  end(commit: boolean): void;
  /** Settles once PGlite has committed or rolled back. */
  done: Promise<void>;
}

const port = parentPort;
if (port === null) throw new Error('db/pglite-worker/thread.ts runs as a worker thread');
const { location } = workerData as { location: string };

const open = new Map<number, OpenTransaction>();
let nextTx = 1;

/** Starts a transaction and keeps it open until an `end` request names it. */
function begin(db: PGlite): Promise<number> {
  return new Promise((started, failed) => {
    const id = nextTx++;
    const done = db.transaction(async (tx) => {
      const commit = await new Promise<boolean>((end) => {
        open.set(id, { tx, end, done });
        started(id);
      });
      open.delete(id);
      if (!commit) await tx.rollback();
    });
    // Before the callback ran (a closed database), nobody else hears of the failure.
    done.catch(failed);
  });
}

async function handle(db: PGlite, request: Request): Promise<unknown> {
  switch (request.kind) {
    case 'query': {
      const parsers = Object.fromEntries(request.textTypes.map((oid) => [oid, keepText]));
      const target = request.tx === undefined ? db : transaction(request.tx).tx;
      return target.query(request.sql, request.params, { rowMode: request.rowMode, parsers });
    }
    case 'begin':
      return begin(db);
    case 'end': {
      const open = transaction(request.tx);
      open.end(request.commit);
      await open.done;
      return undefined;
    }
    case 'close':
      await db.close();
      return undefined;
  }
}

function transaction(id: number): OpenTransaction {
  const found = open.get(id);
  if (found === undefined) throw new Error(`transaction ${id} is not open`);
  return found;
}

function keepText(value: string): string {
  return value;
}

async function serve(): Promise<void> {
  let db: PGlite;
  try {
    db = await PGlite.create(location, { extensions: { vector } });
  } catch (error) {
    port?.postMessage({ ready: false, error: serializeError(error) } satisfies Ready);
    return;
  }
  port?.on('message', (request: Envelope) => {
    handle(db, request).then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies Reply),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          ok: false,
          error: serializeError(error),
        } satisfies Reply),
    );
  });
  port?.postMessage({ ready: true } satisfies Ready);
}

await serve();

import pRetry, { AbortError } from 'p-retry';
import { isAppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import { type AppendResult, appendMessage, type NewMessage } from '../../db/queries/messages.js';

/** A message to store; the client id makes a retried write land once. */
export type TranscriptEntry = NewMessage & { clientId: string };

export interface TranscriptWriterOptions {
  db: Executor;
  logger: Logger;
  /** Attempts after the first; with the default backoff, 10 retries span about 30 s. */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
}

/** SQLSTATE classes worth retrying: connection, resources, operator intervention, rollback. */
const TRANSIENT_SQLSTATE = /^(08|53|57|40)/;
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** Whether a failed write may succeed if tried again (the database went away, not the data). */
export function isTransientDatabaseError(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (isAppError(current)) return current.code === 'DATABASE.UNAVAILABLE';
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATE.test(code))
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Stores transcript messages so that none is lost when the database is briefly unreachable:
 * each write is retried with backoff, writes to one room keep their order, and `flush()`
 * waits for everything still pending (call it on shutdown).
 */
export class TranscriptWriter {
  readonly #options: Required<Omit<TranscriptWriterOptions, 'db' | 'logger'>> &
    TranscriptWriterOptions;
  readonly #tails = new Map<number, Promise<unknown>>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: TranscriptWriterOptions) {
    this.#options = { retries: 10, minTimeoutMs: 100, maxTimeoutMs: 5_000, ...options };
  }

  /** Messages accepted but not yet stored. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Stores a message after the room's earlier ones; resolves once it is durable. */
  write(entry: TranscriptEntry): Promise<AppendResult> {
    const previous = this.#tails.get(entry.chatRoomId) ?? Promise.resolve();
    const result = previous.catch(() => {}).then(() => this.#writeWithRetry(entry));
    const tail = result.catch(() => {});
    this.#tails.set(entry.chatRoomId, tail);
    this.#pending.add(tail);
    void tail.then(() => {
      this.#pending.delete(tail);
      if (this.#tails.get(entry.chatRoomId) === tail) this.#tails.delete(entry.chatRoomId);
    });
    return result;
  }

  /** Like `write`, for callers that do not wait: a final failure is logged, once. */
  enqueue(entry: TranscriptEntry): void {
    this.write(entry).catch((error: unknown) => {
      this.#options.logger.error(
        { err: error, chatRoomId: entry.chatRoomId, clientId: entry.clientId },
        'transcript message could not be stored',
      );
    });
  }

  /** Resolves when every message accepted so far is stored or has failed for good. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #writeWithRetry(entry: TranscriptEntry): Promise<AppendResult> {
    const { retries, minTimeoutMs, maxTimeoutMs, logger } = this.#options;
    return pRetry(
      async () => {
        try {
          return await appendMessage(this.#options.db, entry);
        } catch (error) {
          if (!isTransientDatabaseError(error)) throw new AbortError(error as Error);
          throw error;
        }
      },
      {
        retries,
        minTimeout: minTimeoutMs,
        maxTimeout: maxTimeoutMs,
        onFailedAttempt: ({ attemptNumber, retriesLeft }) => {
          logger.warn(
            { chatRoomId: entry.chatRoomId, attemptNumber, retriesLeft },
            'transcript write failed; retrying',
          );
        },
      },
    );
  }
}

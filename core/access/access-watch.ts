import type { Executor } from '../../db/client.js';
import { readRoomsAccess } from '../../db/queries/room-access.js';
import type { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { talkRefusal } from './room-access.js';

/**
 * How often open conversations are re-checked. With one query per round, a change that takes
 * access away (a character made private) ends them well within the 5 s in which every cache
 * promises to see an edit.
 */
export const ACCESS_RECHECK_MS = 2_000;

export interface AccessWatchOptions {
  db: Executor;
  logger: Pick<Logger, 'warn'>;
  intervalMs?: number;
}

interface Watcher {
  chatRoomId: number;
  userId: string;
  onRefused: (error: AppError) => void;
}

/**
 * Re-applies the access rule ({@link talkRefusal}) to every open conversation of this process
 * (WebSocket chats, direct calls, LiveKit jobs): all at once, one query per round, and only
 * while something is watched. A conversation whose user may no longer talk is told once, with
 * the refusal, and forgotten. A failed read changes nothing; the next round tries again.
 */
export class AccessWatch {
  readonly #watchers = new Set<Watcher>();
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(private readonly options: AccessWatchOptions) {
    this.#intervalMs = options.intervalMs ?? ACCESS_RECHECK_MS;
  }

  /** Calls `onRefused` once the user may no longer talk in the room; returns an unwatch. */
  watch(
    conversation: { chatRoomId: number; userId: string },
    onRefused: (error: AppError) => void,
  ): () => void {
    const watcher = { ...conversation, onRefused };
    this.#watchers.add(watcher);
    this.#timer ??= setInterval(() => void this.#check(), this.#intervalMs).unref();
    return () => this.#forget(watcher);
  }

  /** Stops watching everything. */
  close(): void {
    this.#watchers.clear();
    this.#forget(undefined);
  }

  #forget(watcher: Watcher | undefined): void {
    if (watcher !== undefined) this.#watchers.delete(watcher);
    if (this.#watchers.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const watchers = [...this.#watchers];
      const ids = [...new Set(watchers.map((w) => w.chatRoomId))];
      const rooms = await readRoomsAccess(this.options.db, ids);
      for (const watcher of watchers) {
        const room = rooms.get(watcher.chatRoomId);
        const access = room && { member: room.members.has(watcher.userId), ...room };
        const refusal = talkRefusal(access, watcher.userId);
        if (refusal === undefined || !this.#watchers.has(watcher)) continue;
        this.#forget(watcher);
        watcher.onRefused(refusal);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'access re-check failed; trying again');
    } finally {
      this.#checking = false;
    }
  }
}

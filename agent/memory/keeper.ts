import type { Logger } from '../../core/logger.js';
import type { Distilled } from './distill.js';

export interface MemoryKeeperDeps {
  /** Distils one room (see `distillRoom`); may throw. */
  distill(chatRoomId: number): Promise<Distilled>;
  /** Stores what is still buffered, so the distillation sees the whole conversation. */
  flush(): Promise<void>;
  logger: Logger;
  /** Quiet this long after a text turn counts as the end of the conversation. */
  idleMs: number;
}

/** Batches distilled in one go at most, so a huge backlog cannot hold the keeper forever. */
const MAX_BATCHES = 10;

/**
 * Decides when a conversation's memories are distilled: when it ends (a call hangs up, a chat
 * socket closes) or goes quiet. One distillation at a time per room; a request while one runs
 * runs once more after it, so nothing said meanwhile is missed. Failures are logged and the
 * messages stay for the next time.
 */
export class MemoryKeeper {
  readonly #deps: MemoryKeeperDeps;
  readonly #running = new Map<number, Promise<void>>();
  readonly #again = new Set<number>();
  readonly #idle = new Map<number, NodeJS.Timeout>();
  #closed = false;

  constructor(deps: MemoryKeeperDeps) {
    this.#deps = deps;
  }

  /** A turn happened in the room: distil after `idleMs` without another. */
  active(chatRoomId: number): void {
    if (this.#closed) return;
    clearTimeout(this.#idle.get(chatRoomId));
    const timer = setTimeout(() => void this.ended(chatRoomId), this.#deps.idleMs);
    timer.unref();
    this.#idle.set(chatRoomId, timer);
  }

  /** The room was deleted: no distillation waits for its quiet any more. */
  forget(chatRoomId: number): void {
    clearTimeout(this.#idle.get(chatRoomId));
    this.#idle.delete(chatRoomId);
    this.#again.delete(chatRoomId);
  }

  /** The conversation ended: distil now. Resolves when done; never rejects. */
  ended(chatRoomId: number): Promise<void> {
    clearTimeout(this.#idle.get(chatRoomId));
    this.#idle.delete(chatRoomId);
    const running = this.#running.get(chatRoomId);
    if (running !== undefined) {
      this.#again.add(chatRoomId);
      return running;
    }
    const run = this.#run(chatRoomId).finally(() => this.#running.delete(chatRoomId));
    this.#running.set(chatRoomId, run);
    return run;
  }

  async #run(chatRoomId: number): Promise<void> {
    do {
      this.#again.delete(chatRoomId);
      await this.#distill(chatRoomId);
    } while (this.#again.has(chatRoomId));
  }

  async #distill(chatRoomId: number): Promise<void> {
    const logger = this.#deps.logger.child({ chatRoomId });
    try {
      await this.#deps.flush();
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const done = await this.#deps.distill(chatRoomId);
        if (done.messages > 0) logger.info({ ...done }, 'conversation distilled into memories');
        if (!done.more) return;
      }
    } catch (error) {
      logger.warn({ err: error }, 'memory distillation failed; will retry with the next one');
    }
  }

  /** Distils the rooms still waiting for quiet, and waits for every distillation running. */
  async close(): Promise<void> {
    this.#closed = true;
    const waiting = [...this.#idle.keys()];
    await Promise.all([...waiting.map((id) => this.ended(id)), ...this.#running.values()]);
  }
}

import { LRUCache } from 'lru-cache';
import { AppError } from '../../core/errors.js';

/** A minute, the window every budget counts in (as `RATE_LIMIT_PER_MINUTE` says). */
const WINDOW_MS = 60_000;

export interface TurnBudgetOptions {
  /** Turns one user may start in a minute, over every way in together. */
  perMinute: number;
  /** Users remembered at once; the least recently seen are forgotten first. */
  maxUsers?: number;
  now?: () => number;
}

/**
 * Each user's budget of conversation turns: every turn that asks the LLM for a reply, typed
 * (`POST /api/chat`, `/ws/chat`) or spoken (a user turn in a direct call), takes one from the
 * same budget of `perMinute` a minute, in fixed windows that start with the user's first turn.
 * The same size as the HTTP rate limit, but one budget across the ways in: switching from HTTP
 * to a WebSocket or a call buys nothing.
 */
export class TurnBudget {
  readonly #windows: LRUCache<string, { used: number; startedAt: number }>;
  readonly #perMinute: number;
  readonly #now: () => number;

  constructor(options: TurnBudgetOptions) {
    this.#perMinute = options.perMinute;
    this.#now = options.now ?? Date.now;
    this.#windows = new LRUCache({ max: options.maxUsers ?? 100_000 });
  }

  /** Takes one turn from `userId`'s budget; throws `REQUEST.RATE_LIMITED` when none is left. */
  take(userId: string): void {
    const refusal = this.tryTake(userId);
    if (refusal !== undefined) throw refusal;
  }

  /** Like {@link TurnBudget.take}, returning the refusal instead of throwing it. */
  tryTake(userId: string): AppError | undefined {
    const now = this.#now();
    let window = this.#windows.get(userId);
    if (window === undefined || now - window.startedAt >= WINDOW_MS) {
      window = { used: 0, startedAt: now };
      this.#windows.set(userId, window);
    }
    if (window.used < this.#perMinute) {
      window.used += 1;
      return undefined;
    }
    const retryAfterSeconds = Math.ceil((window.startedAt + WINDOW_MS - now) / 1000);
    return new AppError(
      'REQUEST.RATE_LIMITED',
      `Too many turns; ${this.#perMinute} a minute. Retry in ${retryAfterSeconds} s`,
      { details: { retry_after_seconds: retryAfterSeconds } },
    );
  }
}

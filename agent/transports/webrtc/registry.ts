import { AppError } from '../../../core/errors.js';
import {
  type DirectSession,
  type DirectSessionDeps,
  type DirectSessionRequest,
  startDirectSession,
} from './direct-session.js';

export interface DirectSessionsOptions {
  /** Calls this process holds at once; more are refused with `SESSION.UNAVAILABLE`. Default 50. */
  maxSessions?: number;
  /** Calls one user may hold at once; more are refused with `SESSION.TOO_MANY`. Default 2. */
  maxPerUser?: number;
  /** How a session is started; tests may wrap it. Default {@link startDirectSession}. */
  start?: (deps: DirectSessionDeps, request: DirectSessionRequest) => Promise<DirectSession>;
}

/** A started call, as its owner sees it. */
export interface StartedCall {
  id: string;
  answerSdp: string;
  chatRoomId: number;
  /** Settles when the call is over and stored. */
  ended: Promise<unknown>;
}

/**
 * The direct calls of one process: who owns each, so only the owner can hang up; a cap on how
 * many run at once; and `closeAll()` for shutdown, which waits until every call has stored
 * its messages. A call leaves the registry by itself when it ends.
 */
export class DirectSessions {
  readonly #sessions = new Map<string, { session: DirectSession; userId: string }>();
  readonly #starting = new Set<Promise<unknown>>();
  readonly #maxSessions: number;
  readonly #maxPerUser: number;
  /** Calls each user holds or is starting. */
  readonly #perUser = new Map<string, number>();
  readonly #start: NonNullable<DirectSessionsOptions['start']>;
  #closing = false;

  constructor(
    private readonly deps: DirectSessionDeps,
    options: DirectSessionsOptions = {},
  ) {
    this.#maxSessions = options.maxSessions ?? 50;
    this.#maxPerUser = options.maxPerUser ?? 2;
    this.#start = options.start ?? startDirectSession;
  }

  /** Calls running now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Answers `offerSdp` with a call to the character of `chatRoomId`, owned by `userId`. */
  async start(input: DirectSessionRequest & { userId: string }): Promise<StartedCall> {
    this.#admit(input.userId);
    this.#count(input.userId, 1);
    const starting = this.#start(this.deps, {
      offerSdp: input.offerSdp,
      chatRoomId: input.chatRoomId,
      ...(input.allowTurn === undefined ? {} : { allowTurn: input.allowTurn }),
    });
    this.#starting.add(starting);
    let session: DirectSession;
    try {
      session = await starting;
    } catch (error) {
      this.#count(input.userId, -1);
      throw error;
    } finally {
      this.#starting.delete(starting);
    }
    this.#sessions.set(session.id, { session, userId: input.userId });
    const leave = () => {
      this.#sessions.delete(session.id);
      this.#count(input.userId, -1);
    };
    void session.ended.then(leave, leave);
    if (this.#closing) void session.close();
    return {
      id: session.id,
      answerSdp: session.answerSdp,
      chatRoomId: session.chatRoomId,
      ended: session.ended,
    };
  }

  /** Refuses a new call when shutting down, when the process is full or the user holds enough. */
  #admit(userId: string): void {
    if (this.#closing) {
      throw new AppError('SESSION.UNAVAILABLE', 'The server is shutting down');
    }
    if (this.#sessions.size + this.#starting.size >= this.#maxSessions) {
      throw new AppError('SESSION.UNAVAILABLE', 'This server holds as many calls as it can');
    }
    if ((this.#perUser.get(userId) ?? 0) >= this.#maxPerUser) {
      throw new AppError('SESSION.TOO_MANY', 'You already hold as many calls as one user may', {
        details: { limit: this.#maxPerUser },
      });
    }
  }

  #count(userId: string, change: number): void {
    const held = (this.#perUser.get(userId) ?? 0) + change;
    if (held > 0) this.#perUser.set(userId, held);
    else this.#perUser.delete(userId);
  }

  /** Hangs up a call of `userId`'s; resolves once it is over and stored. */
  async end(id: string, userId: string): Promise<void> {
    const entry = this.#sessions.get(id);
    if (entry === undefined) throw new AppError('SESSION.NOT_FOUND', 'No such call');
    if (entry.userId !== userId) {
      throw new AppError('SESSION.FORBIDDEN', 'Only the caller can end this call');
    }
    await entry.session.close();
  }

  /**
   * Hangs up a call for a reason of the server's (its user may no longer talk in the room),
   * telling the page why; a call that already ended is left alone.
   */
  async stop(id: string, reason: AppError): Promise<void> {
    await this.#sessions.get(id)?.session.close({ code: reason.code, message: reason.message });
  }

  /** Refuses new calls, hangs up every call and waits until all are over and stored. */
  async closeAll(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#starting]);
    await Promise.allSettled([...this.#sessions.values()].map(({ session }) => session.close()));
  }
}

import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import type { AccessWatch } from '../../core/access/access-watch.js';
import { chosenRoom, type RoomChoice } from '../../core/access/room-access.js';
import { AppError, type ErrorCode } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import type { ChatRoom } from '../../db/schema.js';
import type { ConversationPort, MemoryPort, WebSocketTuning } from '../app-deps.js';
import type { AccessTokenVerifier } from '../auth/verifier.js';
import type { BackgroundTasks } from '../background-tasks.js';
import type { TurnBudget } from '../chat/turn-budget.js';
import { isServerFault, toAppError } from '../http/errors.js';
import type { EnsureProfile } from '../users/profile.js';
import { type MessageFrame, parseClientFrame, type ServerFrame } from './frames.js';

export interface ChatSocketDeps {
  db: Executor;
  verifier: AccessTokenVerifier;
  ensureProfile: EnsureProfile;
  conversation: ConversationPort;
  /** Turns are tracked here so shutdown waits for replies still being stored. */
  background: BackgroundTasks;
  tuning: WebSocketTuning;
  /** Ends a conversation whose user may no longer talk in its room. */
  access: Pick<AccessWatch, 'watch'>;
  /** Each user's turns a minute, shared with every other way in. */
  turns: Pick<TurnBudget, 'tryTake'>;
  /** Told of each turn and of the end, to distil the conversation into memories. */
  memory?: Pick<MemoryPort, 'active' | 'ended'> | undefined;
}

export interface ChatSocketHandshake {
  /** The token from the `bearer.<token>` sub-protocol; undefined means "expect an auth frame". */
  token: string | undefined;
  room: RoomChoice;
  log: FastifyBaseLogger;
}

/** Close codes of the errors that end a connection (unlisted: 1011). */
const CLOSE_CODES: Partial<Record<ErrorCode, number>> = {
  'AUTH.MISSING': 4401,
  'AUTH.INVALID': 4401,
  'AUTH.UNAVAILABLE': 1013,
  'ROOM.FORBIDDEN': 4403,
  'ROOM.NOT_FOUND': 4404,
  'CHARACTER.NOT_FOUND': 4404,
  'CHARACTER.UNAVAILABLE': 4403,
};

/** Frames received but not yet handled; beyond this a client is sending faster than replies. */
const MAX_QUEUED_FRAMES = 16;

/**
 * Runs one `/ws/chat` connection: authenticate, pick the room, then one text turn per
 * `message` frame, strictly in order. A turn runs to the end even if the client leaves, so its
 * reply is stored; frames already received are still handled.
 */
export function serveChatSocket(
  deps: ChatSocketDeps,
  socket: WebSocket,
  handshake: ChatSocketHandshake,
): void {
  new ChatSocketSession(deps, socket, handshake).open();
  keepAlive(socket, deps.tuning.pingIntervalMs);
}

class ChatSocketSession {
  #room: ChatRoom | undefined;
  #userId = '';
  /** Set once the connection is being closed by us; later frames are ignored. */
  #finished = false;
  #queued = 0;
  /** Pending while an `auth` frame is awaited; undefined once one arrived (or none is needed). */
  #authTimer: NodeJS.Timeout | undefined;
  /** Frames are handled one after another, in arrival order. */
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ChatSocketDeps,
    private readonly socket: WebSocket,
    private readonly handshake: ChatSocketHandshake,
  ) {}

  open(): void {
    const { token } = this.handshake;
    if (token !== undefined) {
      this.#chain = this.#start(token);
    } else {
      this.#authTimer = setTimeout(() => {
        this.#end(new AppError('AUTH.MISSING', 'No auth frame arrived in time'));
      }, this.deps.tuning.authTimeoutMs);
    }
    this.socket.on('message', (data, isBinary) => this.#enqueue(data, isBinary));
    this.socket.on('close', () => clearTimeout(this.#authTimer));
  }

  #enqueue(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#queued >= MAX_QUEUED_FRAMES) {
      const error = new AppError('REQUEST.RATE_LIMITED', 'Too many frames waiting; slow down');
      this.#report(error, refusedClientId(data, isBinary));
      return;
    }
    this.#queued += 1;
    this.#chain = this.#chain
      .then(() => this.#handle(data, isBinary))
      .finally(() => {
        this.#queued -= 1;
      });
  }

  async #handle(data: WebSocket.RawData, isBinary: boolean): Promise<void> {
    if (this.#finished) return;
    if (isBinary) return void this.#report(invalid('Frames must be JSON text, not binary'));
    const parsed = parseClientFrame(rawText(data));
    if (!parsed.ok) {
      const error = new AppError('REQUEST.INVALID', parsed.message, { details: parsed.details });
      return void this.#report(error);
    }
    const { frame } = parsed;
    if (frame.type === 'auth') return this.#authenticate(frame.token);
    if (this.#room === undefined) {
      return this.#end(new AppError('AUTH.MISSING', 'Send an auth frame before any message'));
    }
    return this.#turn(this.#room, frame);
  }

  async #authenticate(token: string): Promise<void> {
    if (this.#authTimer === undefined) {
      return void this.#report(invalid('Already authenticated; send auth only as the first frame'));
    }
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    return this.#start(token);
  }

  async #start(token: string): Promise<void> {
    try {
      const user = await this.deps.verifier.verify(token);
      await this.deps.ensureProfile(user);
      const room = await chosenRoom(this.deps.db, user.id, this.handshake.room);
      // A new conversation opens with the character's greeting, as a voice call does. It is
      // stored before `ready`, so a message sent on `ready` always comes after it.
      const greeting = await (await this.deps.conversation.open(room)).greet();
      this.#room = room;
      this.#userId = user.id;
      const unwatch = this.deps.access.watch({ chatRoomId: room.id, userId: user.id }, (error) =>
        this.#end(error),
      );
      this.socket.on('close', unwatch);
      this.socket.on('close', () => this.#remember(room.id));
      this.#send({ type: 'ready', chat_room_id: room.id, character_id: room.characterId });
      if (greeting !== undefined) {
        const { id, seq, text } = greeting;
        this.#send({
          type: 'message',
          // No client message asked for it; '' is no client's id (client ids are non-empty).
          client_id: '',
          id,
          seq,
          role: 'character',
          text,
        });
      }
    } catch (error) {
      this.#end(error);
    }
  }

  async #turn(chatRoom: ChatRoom, frame: MessageFrame): Promise<void> {
    const clientId = frame.client_id;
    const overBudget = this.deps.turns.tryTake(this.#userId);
    if (overBudget !== undefined) return void this.#report(overBudget, clientId);
    const deltas = deltaSender((text) => this.#send({ type: 'delta', client_id: clientId, text }));
    const work = this.deps.conversation
      .open(chatRoom)
      .then((conversation) =>
        conversation.runTextTurn({ text: frame.text, clientId, onDelta: deltas.push }),
      );
    try {
      const { userMessage, aiMessage } = await this.deps.background.track(work);
      deltas.flush();
      for (const { id, seq, sender: role, text } of [userMessage, aiMessage]) {
        this.#send({ type: 'message', client_id: clientId, id, seq, role, text });
      }
      this.deps.memory?.active(chatRoom.id);
    } catch (error) {
      deltas.flush();
      this.#report(error, clientId);
    }
  }

  /** The chat ended: once its last turns are stored, it is distilled into memories. */
  #remember(chatRoomId: number): void {
    const memory = this.deps.memory;
    if (memory === undefined) return;
    const done = this.#chain.catch(() => undefined);
    void this.deps.background.track(done.then(() => memory.ended(chatRoomId)));
  }

  #send(frame: ServerFrame): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** Tells the client a frame or turn failed; the connection stays usable. */
  #report(error: unknown, clientId?: string): AppError {
    const appError = toAppError(error);
    if (isServerFault(appError)) {
      this.handshake.log.error({ err: error, code: appError.code }, 'chat turn failed');
    }
    const frame: ServerFrame = { type: 'error', code: appError.code, message: appError.message };
    if (clientId !== undefined) frame.client_id = clientId;
    if (appError.details !== undefined) frame.details = appError.details;
    this.#send(frame);
    return appError;
  }

  /** Reports the error, then closes the connection with the error's close code. */
  #end(error: unknown): void {
    const appError = this.#report(error);
    this.#finished = true;
    clearTimeout(this.#authTimer);
    this.socket.close(CLOSE_CODES[appError.code] ?? 1011, appError.code);
  }
}

/**
 * A turn's reply deltas: the first goes out at once (the time to first delta is what a user
 * feels); later ones wait for the event loop to turn, so a burst of tokens read together
 * costs one frame instead of one each. `flush` sends what is waiting.
 */
function deltaSender(send: (text: string) => void) {
  let waiting = '';
  let timer: NodeJS.Immediate | undefined;
  let first = true;
  const flush = () => {
    clearImmediate(timer);
    timer = undefined;
    if (waiting === '') return;
    send(waiting);
    waiting = '';
  };
  const push = (text: string) => {
    if (first) {
      first = false;
      send(text);
      return;
    }
    waiting += text;
    timer ??= setImmediate(flush);
  };
  return { push, flush };
}

/** The client id of a message frame that is refused before it is handled, if it has one. */
function refusedClientId(data: WebSocket.RawData, isBinary: boolean): string | undefined {
  if (isBinary) return undefined;
  const parsed = parseClientFrame(rawText(data));
  return parsed.ok && parsed.frame.type === 'message' ? parsed.frame.client_id : undefined;
}

function invalid(message: string): AppError {
  return new AppError('REQUEST.INVALID', message);
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * Pings every `intervalMs`; a client that has not answered the previous ping (and sent
 * nothing since) is gone, and its connection is dropped. Keeps idle connections through
 * proxies that close silent ones.
 */
function keepAlive(socket: WebSocket, intervalMs: number): void {
  let alive = true;
  const markAlive = () => {
    alive = true;
  };
  socket.on('pong', markAlive);
  socket.on('message', markAlive);
  const timer = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  socket.on('close', () => clearInterval(timer));
}

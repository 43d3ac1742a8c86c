import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import { AppError, type ErrorCode } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import type { ChatRoom } from '../../db/schema.js';
import type { ConversationPort, WebSocketTuning } from '../app-deps.js';
import type { AccessTokenVerifier } from '../auth/verifier.js';
import type { BackgroundTasks } from '../background-tasks.js';
import { chosenRoom, type RoomChoice } from '../chat-rooms/room-access.js';
import { HTTP_STATUS, toAppError } from '../http/errors.js';
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
  const { log } = handshake;
  let room: ChatRoom | undefined;
  let finished = false;
  let queued = 0;
  let authTimer: NodeJS.Timeout | undefined;

  const send = (frame: ServerFrame) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };

  /** Tells the client a frame or turn failed; the connection stays usable. */
  const report = (error: unknown, clientId?: string) => {
    const appError = toAppError(error);
    if (HTTP_STATUS[appError.code] >= 500) {
      log.error({ err: error, code: appError.code }, 'chat turn failed');
    }
    const frame: ServerFrame = { type: 'error', code: appError.code, message: appError.message };
    if (clientId !== undefined) frame.client_id = clientId;
    if (appError.details !== undefined) frame.details = appError.details;
    send(frame);
    return appError;
  };

  /** Reports the error, then closes the connection with the error's close code. */
  const end = (error: unknown) => {
    const appError = report(error);
    finished = true;
    socket.close(CLOSE_CODES[appError.code] ?? 1011, appError.code);
  };

  const start = async (token: string) => {
    try {
      const user = await deps.verifier.verify(token);
      await deps.ensureProfile(user);
      room = await chosenRoom(deps.db, user.id, handshake.room);
      send({ type: 'ready', chat_room_id: room.id, character_id: room.characterId });
    } catch (error) {
      end(error);
    }
  };

  const turn = async (chatRoom: ChatRoom, frame: MessageFrame) => {
    const clientId = frame.client_id;
    const work = deps.conversation.runTextTurn({
      chatRoom,
      text: frame.text,
      clientId,
      modality: 'text',
      onDelta: (text) => send({ type: 'delta', client_id: clientId, text }),
    });
    try {
      const { userMessage, aiMessage } = await deps.background.track(work);
      for (const message of [userMessage, aiMessage]) {
        const { id, seq, sender: role, text } = message;
        send({ type: 'message', client_id: clientId, id, seq, role, text });
      }
    } catch (error) {
      report(error, clientId);
    }
  };

  const handle = async (data: WebSocket.RawData, isBinary: boolean) => {
    if (finished) return;
    if (isBinary) return void report(invalid('Frames must be JSON text, not binary'));
    const parsed = parseClientFrame(rawText(data));
    if (!parsed.ok) {
      return void report(
        new AppError('REQUEST.INVALID', parsed.message, { details: parsed.details }),
      );
    }
    const { frame } = parsed;
    if (frame.type === 'auth') {
      if (room !== undefined || authTimer === undefined) {
        return void report(invalid('Already authenticated; send auth only as the first frame'));
      }
      clearTimeout(authTimer);
      authTimer = undefined;
      return start(frame.token);
    }
    if (room === undefined) {
      return end(new AppError('AUTH.MISSING', 'Send an auth frame before any message'));
    }
    return turn(room, frame);
  };

  let chain: Promise<void> = Promise.resolve();
  if (handshake.token !== undefined) {
    chain = start(handshake.token);
  } else {
    authTimer = setTimeout(() => {
      end(new AppError('AUTH.MISSING', 'No auth frame arrived in time'));
    }, deps.tuning.authTimeoutMs);
  }

  socket.on('message', (data, isBinary) => {
    if (queued >= MAX_QUEUED_FRAMES) {
      report(new AppError('REQUEST.RATE_LIMITED', 'Too many frames waiting; slow down'));
      return;
    }
    queued += 1;
    chain = chain
      .then(() => handle(data, isBinary))
      .finally(() => {
        queued -= 1;
      });
  });
  socket.on('close', () => clearTimeout(authTimer));
  keepAlive(socket, deps.tuning.pingIntervalMs);
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

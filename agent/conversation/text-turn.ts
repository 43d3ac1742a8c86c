import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import type { AppendResult } from '../../db/queries/messages.js';
import { findMessageByClientId, recentMessages } from '../../db/queries/messages.js';
import type { ChatRoom, Message } from '../../db/schema.js';
import { CharacterCache } from './character-cache.js';
import { greetingEntry, openingGreeting } from './greeting.js';
import { clientKey, replyKey } from './message-keys.js';
import {
  generateReply,
  llmRequestId,
  type Reply,
  type ReplyDeps,
  type ReplyRequest,
} from './reply.js';
import { RoomHistory } from './room-history.js';
import type { TranscriptEntry, TranscriptWriter } from './transcript-writer.js';

export interface ConversationDeps extends ReplyDeps {
  db: Executor;
  writer: TranscriptWriter;
  logger: Logger;
  historyMessages: number;
  /**
   * Whether a turn whose room history is in memory sends the LLM request while the user's
   * message is being stored (default true), and how long it waits before storing (default 0).
   * Only the benchmark changes them, to measure what each pays (BENCHMARKS.md, ws-chat).
   */
  earlyRequest?: { enabled: boolean; storeAfterMs: number };
}

export interface TextTurnInput {
  /** A room the caller has already been allowed into. */
  chatRoom: ChatRoom;
  text: string;
  /** Idempotency key: the same key again stores nothing new and returns the stored pair. */
  clientId?: string;
  /** Receives the reply as it streams. */
  onDelta?: (text: string) => void;
}

export interface TextTurnResult {
  userMessage: Message;
  aiMessage: Message;
}

/** A character edit reaches text turns within this. */
const CHARACTER_TTL_MS = 5_000;
/** Rooms whose latest messages are kept in memory (least recently used dropped first). */
const HISTORY_ROOMS = 5_000;

/**
 * The text way into a character: the same persona, history, knowledge and storage as the
 * voice paths. A turn runs to the end once started, even if the caller goes away, so the
 * reply is always stored.
 */
export function createConversation(deps: ConversationDeps) {
  const characters = new CharacterCache({ db: deps.db, ttlMs: CHARACTER_TTL_MS });
  const rooms = new RoomHistory(deps.historyMessages, HISTORY_ROOMS);
  const early = deps.earlyRequest ?? { enabled: true, storeAfterMs: 0 };

  /** The room's latest messages up to `message`: from memory when current, else the database. */
  async function historyUpTo(message: Message): Promise<Message[]> {
    const known = rooms.append(message);
    if (known !== undefined) return known;
    const recent = await recentMessages(deps.db, message.chatRoomId, deps.historyMessages);
    const upTo = recent.filter((stored) => stored.seq <= message.seq);
    rooms.remember(message.chatRoomId, upTo);
    return upTo;
  }

  async function runTextTurn(input: TextTurnInput): Promise<TextTurnResult> {
    const started = performance.now();
    const character = await characters.get(input.chatRoom.characterId);
    // The stored key: a client's id in the client namespace, never one of the server's keys.
    const clientId = clientKey(input.clientId ?? randomUUID());
    const turn: Turn = {
      input,
      clientId,
      request: { character, requestId: llmRequestId(input.chatRoom.id, clientId) },
    };
    const answered = await answer(turn);
    if ('stored' in answered) return answered.stored;
    const { user, reply } = answered;
    const ai = await deps.writer.write({
      chatRoomId: input.chatRoom.id,
      sender: 'character',
      text: reply.text,
      modality: 'text',
      interrupted: reply.interrupted,
      clientId: replyKey(clientId),
      metrics: { llmTtftMs: reply.ttftMs, e2eLatencyMs: round(performance.now() - started) },
    });
    if (ai.created) rooms.append(ai.message);
    return { userMessage: user, aiMessage: ai.message };
  }

  /**
   * Stores the user's message and generates the reply. When the room's recent history is in
   * memory and does not hold this client id, the LLM request goes out while the message is
   * being stored: the reply is kept only if the message was new and came right after that
   * history, and no delta is passed on before that is known. Otherwise, one after the other.
   */
  async function answer(turn: Turn): Promise<Answered> {
    const { input, clientId } = turn;
    const known = rooms.current(input.chatRoom.id);
    if (
      !early.enabled ||
      known === undefined ||
      known.some((message) => message.clientId === clientId)
    ) {
      return answerAfter(turn, await deps.writer.write(userEntry(input, clientId)));
    }
    let decide: (go: boolean) => void = () => {};
    const go = new Promise<boolean>((resolve) => {
      decide = resolve;
    });
    const history = [...known, provisionalUserMessage(input.text, known.at(-1))];
    const replying = generateReply(deps, { ...turnRequest(turn), history, go });
    // Awaited below, after the insert: a failure meanwhile must not count as unhandled.
    replying.catch(() => {});
    const stored = delay(early.storeAfterMs).then(() =>
      deps.writer.write(userEntry(input, clientId)),
    );
    let user: AppendResult;
    try {
      user = await stored;
    } catch (error) {
      decide(false);
      await replying.catch(() => undefined);
      throw error;
    }
    const follows = user.created && user.message.seq === (known.at(-1)?.seq ?? 0) + 1;
    decide(follows);
    const reply = await replying;
    if (!follows || reply === undefined) return answerAfter(turn, user);
    rooms.append(user.message);
    return { user: user.message, reply };
  }

  /** The reply to a stored user message: the stored one for a repeated client id. */
  async function answerAfter(turn: Turn, user: AppendResult): Promise<Answered> {
    const { input, clientId } = turn;
    if (!user.created) {
      const stored = await findMessageByClientId(deps.db, input.chatRoom.id, replyKey(clientId));
      if (stored !== undefined) return { stored: { userMessage: user.message, aiMessage: stored } };
    }
    const history = await historyUpTo(user.message);
    const reply = await generateReply(deps, { ...turnRequest(turn), history });
    if (reply === undefined) throw new Error('a reply without a go-ahead was abandoned');
    return { user: user.message, reply };
  }

  /**
   * Stores the character's greeting if the room has no messages yet; returns it if stored.
   * Called when a user arrives, it also loads the room's history, so the first turn reads none.
   */
  async function greet(chatRoom: ChatRoom): Promise<Message | undefined> {
    const character = await characters.get(chatRoom.characterId);
    const recent = await recentMessages(deps.db, chatRoom.id, deps.historyMessages);
    rooms.remember(chatRoom.id, recent);
    const greeting = openingGreeting(character, recent);
    if (greeting === undefined) return undefined;
    const result = await deps.writer.write(greetingEntry(chatRoom.id, greeting, 'text'));
    if (!result.created) return undefined;
    rooms.append(result.message);
    return result.message;
  }

  return { runTextTurn, greet };
}

export type Conversation = ReturnType<typeof createConversation>;

interface Turn {
  input: TextTurnInput;
  clientId: string;
  request: Pick<ReplyRequest, 'character' | 'requestId'>;
}

type Answered = { user: Message; reply: Reply } | { stored: TextTurnResult };

function turnRequest(turn: Turn): Omit<ReplyRequest, 'history'> {
  return { ...turn.request, onDelta: turn.input.onDelta, chatRoomId: turn.input.chatRoom.id };
}

/** The user's message as the prompt will see it once stored: after everything before it. */
function provisionalUserMessage(
  text: string,
  last: Message | undefined,
): ReplyRequest['history'][0] {
  const after = (last?.createdAt.getTime() ?? 0) + 1;
  return {
    sender: 'user',
    text,
    interrupted: false,
    createdAt: new Date(Math.max(Date.now(), after)),
  };
}

function userEntry(input: TextTurnInput, clientId: string): TranscriptEntry {
  return {
    chatRoomId: input.chatRoom.id,
    sender: 'user',
    text: input.text,
    modality: 'text',
    clientId,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

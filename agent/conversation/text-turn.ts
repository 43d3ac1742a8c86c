import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import type { AppendResult } from '../../db/queries/messages.js';
import { findMessageByClientId, recentMessages } from '../../db/queries/messages.js';
import type { ChatRoom, Message } from '../../db/schema.js';
import { CharacterCache } from './character-cache.js';
import { askWhileStoring, mayAskEarly } from './early-request.js';
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
import type { TranscriptWriter } from './transcript-writer.js';

export interface ConversationDeps extends ReplyDeps {
  db: Executor;
  writer: TranscriptWriter;
  logger: Logger;
  historyMessages: number;
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
 * reply is always stored. Storing is explicit: the user's message, then the reply, each
 * through the transcript writer.
 */
export class TextConversation {
  readonly #characters: CharacterCache;
  readonly #rooms: RoomHistory;

  constructor(protected readonly deps: ConversationDeps) {
    this.#characters = new CharacterCache({ db: deps.db, ttlMs: CHARACTER_TTL_MS });
    this.#rooms = new RoomHistory(deps.historyMessages, HISTORY_ROOMS);
  }

  /** One typed message in, the character's reply out (streamed through `onDelta`), both stored. */
  async runTextTurn(input: TextTurnInput): Promise<TextTurnResult> {
    const started = performance.now();
    const character = await this.#characters.get(input.chatRoom.characterId);
    // The stored key: a client's id in the client namespace, never one of the server's keys.
    const clientId = clientKey(input.clientId ?? randomUUID());
    const requestId = llmRequestId(input.chatRoom.id, clientId);
    const turn: Turn = { input, clientId, request: { character, requestId } };
    const answered = await this.answer(turn);
    if ('stored' in answered) return answered.stored;
    const { user, reply } = answered;
    const ai = await this.deps.writer.write({
      chatRoomId: input.chatRoom.id,
      sender: 'character',
      text: reply.text,
      modality: 'text',
      interrupted: reply.interrupted,
      clientId: replyKey(clientId),
      metrics: { llmTtftMs: reply.ttftMs, e2eLatencyMs: round(performance.now() - started) },
    });
    if (ai.created) this.#rooms.append(ai.message);
    return { userMessage: user, aiMessage: ai.message };
  }

  /**
   * Stores the character's greeting if the room has no messages yet; returns it if stored.
   * Called when a user arrives, it also loads the room's history, so the first turn reads none.
   */
  /** The room was deleted: its history kept in memory goes too. */
  forgetRoom(chatRoomId: number): void {
    this.#rooms.forget(chatRoomId);
  }

  async greet(chatRoom: ChatRoom): Promise<Message | undefined> {
    const character = await this.#characters.get(chatRoom.characterId);
    const recent = await recentMessages(this.deps.db, chatRoom.id, this.deps.historyMessages);
    this.#rooms.remember(chatRoom.id, recent);
    const greeting = openingGreeting(character, recent);
    if (greeting === undefined) return undefined;
    const result = await this.deps.writer.write(greetingEntry(chatRoom.id, greeting, 'text'));
    if (!result.created) return undefined;
    this.#rooms.append(result.message);
    return result.message;
  }

  /**
   * Stores the user's message and generates the reply: with the early request
   * (early-request.ts) when the room's history is in memory, else one after the other.
   */
  protected async answer(turn: Turn): Promise<Answered> {
    const known = this.#rooms.current(turn.input.chatRoom.id);
    if (!mayAskEarly(known, turn.clientId)) return this.answerAfterStoring(turn);
    const early = await askWhileStoring(this.deps, {
      known,
      text: turn.input.text,
      request: turnRequest(turn),
      store: () => this.storeUserMessage(turn),
    });
    if (early.reply === undefined) return this.#answerAfter(turn, early.user);
    this.#rooms.append(early.user.message);
    return { user: early.user.message, reply: early.reply };
  }

  /** Stores the user's message, then generates the reply. */
  protected async answerAfterStoring(turn: Turn): Promise<Answered> {
    return this.#answerAfter(turn, await this.storeUserMessage(turn));
  }

  protected storeUserMessage(turn: Turn): Promise<AppendResult> {
    const { input, clientId } = turn;
    return this.deps.writer.write({
      chatRoomId: input.chatRoom.id,
      sender: 'user',
      text: input.text,
      modality: 'text',
      clientId,
    });
  }

  /** The reply to a stored user message: the stored one for a repeated client id. */
  async #answerAfter(turn: Turn, user: AppendResult): Promise<Answered> {
    const { input, clientId } = turn;
    if (!user.created) {
      const stored = await findMessageByClientId(
        this.deps.db,
        input.chatRoom.id,
        replyKey(clientId),
      );
      if (stored !== undefined) return { stored: { userMessage: user.message, aiMessage: stored } };
    }
    const history = await this.#historyUpTo(user.message);
    const reply = await generateReply(this.deps, { ...turnRequest(turn), history });
    return { user: user.message, reply };
  }

  /** The room's latest messages up to `message`: from memory when current, else the database. */
  async #historyUpTo(message: Message): Promise<Message[]> {
    const known = this.#rooms.append(message);
    if (known !== undefined) return known;
    const { db, historyMessages } = this.deps;
    const recent = await recentMessages(db, message.chatRoomId, historyMessages);
    const upTo = recent.filter((stored) => stored.seq <= message.seq);
    this.#rooms.remember(message.chatRoomId, upTo);
    return upTo;
  }
}

/** The text conversation, as the token service and tests call it. */
export type Conversation = Pick<TextConversation, 'runTextTurn' | 'greet' | 'forgetRoom'>;

/** One text turn as it is being answered. */
export interface Turn {
  input: TextTurnInput;
  clientId: string;
  request: Pick<ReplyRequest, 'character' | 'requestId'>;
}

/** A new reply to a user message, or the pair already stored for a repeated client id. */
export type Answered = { user: Message; reply: Reply } | { stored: TextTurnResult };

function turnRequest(turn: Turn): Omit<ReplyRequest, 'history'> {
  return { ...turn.request, onDelta: turn.input.onDelta, chatRoomId: turn.input.chatRoom.id };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

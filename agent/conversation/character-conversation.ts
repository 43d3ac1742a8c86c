import { randomUUID } from 'node:crypto';
import { llm, voice } from '@livekit/agents';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  type AppendResult,
  findMessageByClientId,
  recentMessages,
} from '../../db/queries/messages.js';
import type { Character, ChatRoom, Message } from '../../db/schema.js';
import { askWhileStoring, mayAskEarly } from './early-request.js';
import { greetingEntry, openingGreeting } from './greeting.js';
import { historyContext } from './history.js';
import { clientKey, GREETING_KEY, replyKey } from './message-keys.js';
import { characterInstructions } from './prompt.js';
import {
  generateReply,
  llmRequestId,
  type Reply,
  type ReplyDeps,
  type ReplyRequest,
} from './reply.js';
import type { RoomHistory } from './room-history.js';
import type { TranscriptWriter } from './transcript-writer.js';
import { type TurnSources, turnContext } from './turn-context.js';
import { orderAfterTalkedOverReply, toTurnMetrics } from './voice-session.js';

/** What every character conversation stands on, whichever way it is fed. */
export interface ConversationCore extends TurnSources {
  writer: TranscriptWriter;
}

/** What typed turns need besides: an LLM client of their own, the database for history. */
export interface TypedTurnDeps extends ReplyDeps {
  db: Executor;
  historyMessages: number;
}

export interface CharacterConversationParams {
  core: ConversationCore;
  chatRoom: ChatRoom;
  character: Character;
  /**
   * The room's latest messages held in memory: shared by every typed turn of the process; for a
   * voice session, what it started from (the session keeps its own chat context from there).
   */
  history: RoomHistory;
  /** Where typed turns are answered (the token service). */
  typed?: TypedTurnDeps | undefined;
}

/** One typed message, as a text transport hands it over. */
export interface TypedMessage {
  text: string;
  /** Idempotency key: the same key again stores nothing new and returns the stored pair. */
  clientId?: string | undefined;
  /** Receives the reply as it streams. */
  onDelta?: ((text: string) => void) | undefined;
}

export interface TextTurnResult {
  userMessage: Message;
  aiMessage: Message;
}

/**
 * One character talking in one chat room: the greeting, the history, what each turn asks the
 * LLM with (knowledge, memories, the camera), the typed turn, and storing what was said and
 * played. Voice and text are two ways of feeding it: a voice session asks `request` from its
 * `llmNode` and is `listen`ed to for what it commits; a text transport calls `greet` and
 * `runTextTurn`. A typed turn runs to the end once started, so its reply is always stored.
 */
export class CharacterConversation {
  readonly chatRoom: ChatRoom;
  readonly character: Character;
  readonly #core: ConversationCore;
  readonly #rooms: RoomHistory;
  readonly #typed: TypedTurnDeps | undefined;

  constructor(params: CharacterConversationParams) {
    this.chatRoom = params.chatRoom;
    this.character = params.character;
    this.#core = params.core;
    this.#rooms = params.history;
    this.#typed = params.typed;
  }

  /** The room's latest messages as held in memory, oldest first. */
  get history(): Message[] {
    return this.#rooms.current(this.chatRoom.id) ?? [];
  }

  /** The greeting to open with, only while the conversation has not started. */
  greeting(): string | undefined {
    return openingGreeting(this.character, this.history);
  }

  /**
   * What the LLM is asked with for one turn, spoken or typed: `chatCtx` (persona, history,
   * ending with the user's words) with the knowledge, memories and camera picture for it.
   */
  request(
    chatCtx: llm.ChatContext,
    picture?: Promise<llm.ImageContent | undefined>,
  ): Promise<llm.ChatContext> {
    const scope = { characterId: this.character.id, chatRoomId: this.chatRoom.id, picture };
    return turnContext(this.#core, scope, chatCtx);
  }

  /**
   * Stores every user and character message a voice session commits, exactly once (the chat
   * item id is the idempotency key), with the interrupted flag, the text actually spoken and
   * the greeting under its own key, in the order the words began.
   */
  listen(session: voice.AgentSession): void {
    const chatRoomId = this.chatRoom.id;
    let greetingPending = this.greeting();
    const afterTalkedOverReply = orderAfterTalkedOverReply(session);
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
      if (!(item instanceof llm.ChatMessage)) return;
      if (item.role !== 'user' && item.role !== 'assistant') return;
      const text = (item.textContent ?? '').trim();
      if (text === '') return;
      // The chat item id: a server key (`item_…`), never in the clients' `c:` namespace.
      let clientId = item.id;
      if (item.role === 'assistant' && greetingPending?.startsWith(text)) {
        clientId = GREETING_KEY;
        greetingPending = undefined;
      }
      const sender = item.role === 'user' ? ('user' as const) : ('character' as const);
      const metrics = toTurnMetrics(item.metrics);
      const { interrupted } = item;
      const entry = { chatRoomId, sender, text, modality: 'voice' as const, interrupted, metrics };
      const store = () => this.#core.writer.enqueue({ ...entry, clientId });
      if (item.role === 'user') afterTalkedOverReply(store);
      else store();
    });
  }

  /**
   * Stores the greeting in a room with no messages yet (a text client arriving) and returns
   * it if stored. It also loads the room's history, so the first typed turn reads none.
   */
  async greet(): Promise<Message | undefined> {
    const { db, historyMessages } = this.#typedDeps();
    this.#rooms.remember(
      this.chatRoom.id,
      await recentMessages(db, this.chatRoom.id, historyMessages),
    );
    const greeting = this.greeting();
    if (greeting === undefined) return undefined;
    const entry = greetingEntry(this.chatRoom.id, greeting, 'text');
    const result = await this.#core.writer.write(entry);
    if (!result.created) return undefined;
    this.#rooms.append(result.message);
    return result.message;
  }

  /** One typed message in, the reply out (streamed through `onDelta`), both stored. */
  async runTextTurn(message: TypedMessage): Promise<TextTurnResult> {
    const started = performance.now();
    // Refused before anything is stored: a voice session's conversation has no LLM of its own.
    this.#typedDeps();
    // The stored key: a client's id in the client namespace, never one of the server's keys.
    const clientId = clientKey(message.clientId ?? randomUUID());
    const requestId = llmRequestId(this.chatRoom.id, clientId);
    const answered = await this.answer({ message, clientId, requestId });
    if ('stored' in answered) return answered.stored;
    const { user, reply } = answered;
    const ai = await this.#core.writer.write({
      chatRoomId: this.chatRoom.id,
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
   * Stores the user's message and generates the reply: with the early request
   * (early-request.ts) when the room's history is in memory, else one after the other.
   */
  protected async answer(turn: TypedTurn): Promise<Answered> {
    const known = this.#rooms.current(this.chatRoom.id);
    if (!mayAskEarly(known, turn.clientId)) return this.answerAfterStoring(turn);
    const early = await askWhileStoring(this.#typedDeps(), {
      known,
      text: turn.message.text,
      request: this.#replyRequest(turn),
      store: () => this.storeUserMessage(turn),
    });
    if (early.reply === undefined) return this.#answerAfter(turn, early.user);
    this.#rooms.append(early.user.message);
    return { user: early.user.message, reply: early.reply };
  }

  /** Stores the user's message, then generates the reply. */
  protected async answerAfterStoring(turn: TypedTurn): Promise<Answered> {
    return this.#answerAfter(turn, await this.storeUserMessage(turn));
  }

  protected storeUserMessage(turn: TypedTurn): Promise<AppendResult> {
    return this.#core.writer.write({
      chatRoomId: this.chatRoom.id,
      sender: 'user',
      text: turn.message.text,
      modality: 'text',
      clientId: turn.clientId,
    });
  }

  /** The reply to a stored user message: the stored one for a repeated client id. */
  async #answerAfter(turn: TypedTurn, user: AppendResult): Promise<Answered> {
    const deps = this.#typedDeps();
    if (!user.created) {
      const stored = await findMessageByClientId(
        deps.db,
        this.chatRoom.id,
        replyKey(turn.clientId),
      );
      if (stored !== undefined) return { stored: { userMessage: user.message, aiMessage: stored } };
    }
    const history = await this.#historyUpTo(user.message);
    const reply = await generateReply(deps, { ...this.#replyRequest(turn), history });
    return { user: user.message, reply };
  }

  /** The room's latest messages up to `message`: from memory when current, else the database. */
  async #historyUpTo(message: Message): Promise<Message[]> {
    const known = this.#rooms.append(message);
    if (known !== undefined) return known;
    const { db, historyMessages } = this.#typedDeps();
    const recent = await recentMessages(db, message.chatRoomId, historyMessages);
    const upTo = recent.filter((stored) => stored.seq <= message.seq);
    this.#rooms.remember(message.chatRoomId, upTo);
    return upTo;
  }

  #replyRequest(turn: TypedTurn): Omit<ReplyRequest, 'history'> {
    const persona = characterInstructions(this.character, 'text');
    return {
      requestId: turn.requestId,
      onDelta: turn.message.onDelta,
      chatRoomId: this.chatRoom.id,
      // A typed turn's request is a spoken turn's, with the persona as the system message.
      context: (history) => this.request(historyContext(history, persona)),
    };
  }

  #typedDeps(): TypedTurnDeps {
    if (this.#typed !== undefined) return this.#typed;
    throw new AppError('INTERNAL', 'This conversation answers no typed turns');
  }
}

/** One typed turn as it is being answered. */
export interface TypedTurn {
  message: TypedMessage;
  /** The user message's stored key. */
  clientId: string;
  requestId: string;
}

/** A new reply to a user message, or the pair already stored for a repeated client id. */
export type Answered = { user: Message; reply: Reply } | { stored: TextTurnResult };

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

import { randomUUID } from 'node:crypto';
import type { APIConnectOptions, llm } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import { findMessageByClientId, recentMessages } from '../../db/queries/messages.js';
import type { Character, ChatRoom, Message } from '../../db/schema.js';
import { CharacterCache } from './character-cache.js';
import { historyContext } from './history.js';
import { APOLOGY, characterInstructions } from './prompt.js';
import { type Retriever, withKnowledge } from './retrieval.js';
import { RoomHistory } from './room-history.js';
import type { TranscriptWriter } from './transcript-writer.js';

export interface ConversationDeps {
  db: Executor;
  /** A fresh LLM handle per turn (the SDK client is shared), so its errors are this turn's. */
  createLLM: () => llm.LLM;
  connOptions: APIConnectOptions;
  retriever: Retriever;
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

/** The client id of the character's reply to a user message. */
const replyKey = (clientId: string) => `${clientId}:reply`;
/** A room's greeting is stored once, whichever way the user arrives first. */
export const GREETING_CLIENT_ID = 'greeting';
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
    const clientId = input.clientId ?? randomUUID();
    const user = await deps.writer.write({
      chatRoomId: input.chatRoom.id,
      sender: 'user',
      text: input.text,
      modality: 'text',
      clientId,
    });
    if (!user.created) {
      const stored = await findMessageByClientId(deps.db, input.chatRoom.id, replyKey(clientId));
      if (stored !== undefined) return { userMessage: user.message, aiMessage: stored };
    }
    const history = await historyUpTo(user.message);
    const reply = await generate(deps, character, input, history, user.message);
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
    return { userMessage: user.message, aiMessage: ai.message };
  }

  /**
   * Stores the character's greeting if the room has no messages yet; returns it if stored.
   * Called when a user arrives, it also loads the room's history, so the first turn reads none.
   */
  async function greet(chatRoom: ChatRoom): Promise<Message | undefined> {
    const character = await characters.get(chatRoom.characterId);
    const recent = await recentMessages(deps.db, chatRoom.id, deps.historyMessages);
    rooms.remember(chatRoom.id, recent);
    if (!character.greeting || recent.length > 0) return undefined;
    const result = await deps.writer.write({
      chatRoomId: chatRoom.id,
      sender: 'character',
      text: character.greeting,
      modality: 'text',
      clientId: GREETING_CLIENT_ID,
    });
    if (!result.created) return undefined;
    rooms.append(result.message);
    return result.message;
  }

  return { runTextTurn, greet };
}

export type Conversation = ReturnType<typeof createConversation>;

/** The header OpenAI echoes in its logs to tie a request to the caller's own id. */
export const CLIENT_REQUEST_ID_HEADER = 'X-Client-Request-Id';

/** The id a text turn's LLM request carries: the stored user message it answers. */
export function llmRequestId(userMessage: Pick<Message, 'id'>): string {
  return `parley-message-${userMessage.id}`;
}

interface Reply {
  text: string;
  interrupted: boolean;
  ttftMs: number | undefined;
}

async function generate(
  deps: ConversationDeps,
  character: Character,
  input: TextTurnInput,
  history: Message[],
  userMessage: Message,
): Promise<Reply> {
  const chatCtx = historyContext(history, characterInstructions(character, 'text'));
  const augmented = await withKnowledge(deps.retriever, character.id, chatCtx);
  const started = performance.now();
  let text = '';
  let ttftMs: number | undefined;
  let failure: unknown;
  // The agents LLM stream ends quietly on failure and reports it as an event on its LLM.
  const model = deps.createLLM();
  const onError = (error: { error: Error; recoverable: boolean }) => {
    if (!error.recoverable) failure = error.error;
  };
  model.on('error', onError);
  const stream = model.chat({
    chatCtx: augmented,
    connOptions: deps.connOptions,
    // OpenAI's request-tracing header: the provider's logs name the stored message answered.
    extraKwargs: { extra_headers: { [CLIENT_REQUEST_ID_HEADER]: llmRequestId(userMessage) } },
  });
  try {
    for await (const chunk of stream) {
      const piece = chunk.delta?.content;
      if (!piece) continue;
      ttftMs ??= round(performance.now() - started);
      text += piece;
      input.onDelta?.(piece);
    }
  } catch (error) {
    failure = error;
  } finally {
    model.off('error', onError);
    stream.close();
  }
  if (failure === undefined && text !== '') return { text, interrupted: false, ttftMs };
  deps.logger.error(
    { err: failure ?? new Error('empty reply'), chatRoomId: input.chatRoom.id },
    'LLM failed; replying with an apology',
  );
  if (text !== '') return { text, interrupted: true, ttftMs };
  input.onDelta?.(APOLOGY);
  return { text: APOLOGY, interrupted: false, ttftMs };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

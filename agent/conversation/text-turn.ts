import { randomUUID } from 'node:crypto';
import type { APIConnectOptions, llm } from '@livekit/agents';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import { getCharacter } from '../../db/queries/characters.js';
import { findMessageByClientId, recentMessages } from '../../db/queries/messages.js';
import type { Character, ChatRoom, Message } from '../../db/schema.js';
import { historyContext } from './history.js';
import { APOLOGY, characterInstructions } from './prompt.js';
import { type Retriever, withKnowledge } from './retrieval.js';
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

/**
 * The text way into a character: the same persona, history, knowledge and storage as the
 * voice paths. A turn runs to the end once started, even if the caller goes away, so the
 * reply is always stored.
 */
export function createConversation(deps: ConversationDeps) {
  async function runTextTurn(input: TextTurnInput): Promise<TextTurnResult> {
    const character = await requireCharacter(deps.db, input.chatRoom.characterId);
    const clientId = input.clientId ?? randomUUID();
    const started = performance.now();
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
    const reply = await generate(deps, character, input, user.message);
    const ai = await deps.writer.write({
      chatRoomId: input.chatRoom.id,
      sender: 'character',
      text: reply.text,
      modality: 'text',
      interrupted: reply.interrupted,
      clientId: replyKey(clientId),
      metrics: { llmTtftMs: reply.ttftMs, e2eLatencyMs: round(performance.now() - started) },
    });
    return { userMessage: user.message, aiMessage: ai.message };
  }

  /** Stores the character's greeting if the room has no messages yet; returns it if stored. */
  async function greet(chatRoom: ChatRoom): Promise<Message | undefined> {
    const character = await requireCharacter(deps.db, chatRoom.characterId);
    if (!character.greeting) return undefined;
    if ((await recentMessages(deps.db, chatRoom.id, 1)).length > 0) return undefined;
    const result = await deps.writer.write({
      chatRoomId: chatRoom.id,
      sender: 'character',
      text: character.greeting,
      modality: 'text',
      clientId: GREETING_CLIENT_ID,
    });
    return result.created ? result.message : undefined;
  }

  return { runTextTurn, greet };
}

export type Conversation = ReturnType<typeof createConversation>;

async function requireCharacter(db: Executor, id: string): Promise<Character> {
  const character = await getCharacter(db, id);
  if (character === undefined)
    throw new AppError('CHARACTER.NOT_FOUND', 'This character no longer exists');
  return character;
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
  userMessage: Message,
): Promise<Reply> {
  const history = await recentMessages(deps.db, input.chatRoom.id, deps.historyMessages);
  const upToTurn = history.filter((message) => message.seq <= userMessage.seq);
  const chatCtx = historyContext(upToTurn, characterInstructions(character, 'text'));
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
  const stream = model.chat({ chatCtx: augmented, connOptions: deps.connOptions });
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

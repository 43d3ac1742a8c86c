import { createHash } from 'node:crypto';
import type { APIConnectOptions, llm } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import type { Character, Message } from '../../db/schema.js';
import { type MemoryRecall, recallFor, withMemories } from '../memory/recall.js';
import { historyContext } from './history.js';
import { APOLOGY, characterInstructions } from './prompt.js';
import { type Retriever, withKnowledge } from './retrieval.js';

export interface ReplyDeps {
  /** A fresh LLM handle per turn (the SDK client is shared), so its errors are this turn's. */
  createLLM: () => llm.LLM;
  connOptions: APIConnectOptions;
  retriever: Retriever;
  /** What the user told the character in earlier conversations; none without. */
  memories?: MemoryRecall | undefined;
  logger: Logger;
}

export interface ReplyRequest {
  character: Character;
  /** The conversation so far, oldest first, ending with the user's message. */
  history: Pick<Message, 'sender' | 'text' | 'interrupted' | 'createdAt'>[];
  /** Names the request in the provider's logs (see {@link llmRequestId}). */
  requestId: string;
  onDelta?: ((text: string) => void) | undefined;
  /**
   * Started before the user's message was stored: resolves true to go on, false to abandon
   * (the stream is closed at once). No delta is passed on before it says true.
   */
  go?: Promise<boolean>;
  /** For the log line when the LLM fails. */
  chatRoomId: number;
}

export interface Reply {
  text: string;
  interrupted: boolean;
  ttftMs: number | undefined;
}

/** The header OpenAI echoes in its logs to tie a request to the caller's own id. */
export const CLIENT_REQUEST_ID_HEADER = 'X-Client-Request-Id';

/**
 * The id a text turn's LLM request carries: a digest of the room and the turn's client id,
 * so the provider's logs can be matched to a stored turn without carrying the client's text.
 */
export function llmRequestId(chatRoomId: number, clientId: string): string {
  const digest = createHash('sha256').update(`${chatRoomId}:${clientId}`).digest('hex');
  return `parley-${digest.slice(0, 32)}`;
}

/**
 * Streams the character's reply to `history`. A failed LLM gives an apology (or what it said
 * before failing, marked interrupted) so the user is never left hanging; `undefined` only
 * when `go` said to abandon.
 */
export async function generateReply(
  deps: ReplyDeps,
  request: ReplyRequest,
): Promise<Reply | undefined> {
  const { character } = request;
  const chatCtx = historyContext(request.history, characterInstructions(character, 'text'));
  const recalled = recallFor(deps.memories, request.chatRoomId, chatCtx);
  const knowing = await withKnowledge(deps.retriever, character.id, chatCtx);
  const augmented = withMemories(knowing, await recalled);
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
    extraKwargs: { extra_headers: { [CLIENT_REQUEST_ID_HEADER]: request.requestId } },
  });
  void request.go?.then((ok) => ok || stream.close());
  try {
    for await (const chunk of stream) {
      const piece = chunk.delta?.content;
      if (!piece) continue;
      if (ttftMs === undefined && request.go !== undefined && !(await request.go)) break;
      ttftMs ??= round(performance.now() - started);
      text += piece;
      request.onDelta?.(piece);
    }
  } catch (error) {
    failure = error;
  } finally {
    model.off('error', onError);
    stream.close();
  }
  if (request.go !== undefined && !(await request.go)) return undefined;
  if (failure === undefined && text !== '') return { text, interrupted: false, ttftMs };
  deps.logger.error(
    { err: failure ?? new Error('empty reply'), chatRoomId: request.chatRoomId },
    'LLM failed; replying with an apology',
  );
  if (text !== '') return { text, interrupted: true, ttftMs };
  request.onDelta?.(APOLOGY);
  return { text: APOLOGY, interrupted: false, ttftMs };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

import { createHash } from 'node:crypto';
import type { APIConnectOptions, llm } from '@livekit/agents';
import type { Logger } from '../../core/logger.js';
import type { Message } from '../../db/schema.js';
import { APOLOGY } from './prompt.js';

export interface ReplyDeps {
  /** A fresh LLM handle per turn (the SDK client is shared), so its errors are this turn's. */
  createLLM: () => llm.LLM;
  connOptions: APIConnectOptions;
  logger: Logger;
}

type HistoryMessage = Pick<Message, 'sender' | 'text' | 'interrupted' | 'createdAt'>;

export interface ReplyRequest {
  /** The conversation so far, oldest first, ending with the user's message. */
  history: HistoryMessage[];
  /**
   * The LLM request for `history`: the persona, the history, and the turn's knowledge and
   * memories (the conversation's `request`, as a spoken turn's).
   */
  context(history: HistoryMessage[]): Promise<llm.ChatContext>;
  /** Names the request in the provider's logs (see {@link llmRequestId}). */
  requestId: string;
  onDelta?: ((text: string) => void) | undefined;
  /** For the log line when the LLM fails. */
  chatRoomId: number;
}

/** What the LLM streamed before it ended or failed. */
export interface Streamed {
  text: string;
  ttftMs: number | undefined;
  failure: unknown;
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
 * before failing, marked interrupted) so the user is never left hanging.
 */
export async function generateReply(deps: ReplyDeps, request: ReplyRequest): Promise<Reply> {
  const streamed = await passOn(streamReply(deps, request), request.onDelta);
  return finishReply(deps, request, streamed);
}

/** Hands each piece of a streamed reply to `onDelta`, from `first` (when already taken) on. */
export async function passOn(
  pieces: AsyncGenerator<string, Streamed, undefined>,
  onDelta: ReplyRequest['onDelta'],
  first?: IteratorResult<string, Streamed>,
): Promise<Streamed> {
  let next = first ?? (await pieces.next());
  while (!next.done) {
    try {
      onDelta?.(next.value);
    } catch (error) {
      // As a failure of the stream: the reply ends with what was passed on so far.
      next = await pieces.throw(error);
      continue;
    }
    next = await pieces.next();
  }
  return next.value;
}

export interface StreamOptions {
  /** Closes the LLM stream at once. */
  signal?: AbortSignal;
  /** Called once the turn's context is built and the LLM request has been sent. */
  onAsked?: () => void;
}

/**
 * The LLM's reply to `history` (with the character's knowledge), piece by piece; returns what
 * was streamed. The time to first token counts until the caller asks for the piece after the
 * first.
 */
export async function* streamReply(
  deps: ReplyDeps,
  request: Omit<ReplyRequest, 'onDelta'>,
  { signal, onAsked }: StreamOptions = {},
): AsyncGenerator<string, Streamed, undefined> {
  const augmented = await request.context(request.history);
  const started = performance.now();
  const streamed: Streamed = { text: '', ttftMs: undefined, failure: undefined };
  // The agents LLM stream ends quietly on failure and reports it as an event on its LLM.
  const model = deps.createLLM();
  const onError = (error: { error: Error; recoverable: boolean }) => {
    if (!error.recoverable) streamed.failure = error.error;
  };
  model.on('error', onError);
  const stream = model.chat({
    chatCtx: augmented,
    connOptions: deps.connOptions,
    extraKwargs: { extra_headers: { [CLIENT_REQUEST_ID_HEADER]: request.requestId } },
  });
  // agents starts the stream's request on a 0 ms timer; one set after it fires once the
  // request has gone as far as it can without waiting on the network.
  if (onAsked !== undefined) setTimeout(onAsked, 0);
  const stopClosing = closeOnAbort(stream, signal);
  try {
    for await (const chunk of stream) {
      const piece = chunk.delta?.content;
      if (!piece) continue;
      yield piece;
      streamed.ttftMs ??= round(performance.now() - started);
      streamed.text += piece;
    }
  } catch (error) {
    streamed.failure = error;
  } finally {
    model.off('error', onError);
    stopClosing();
    stream.close();
  }
  return streamed;
}

/** Closes `stream` when `signal` aborts, or at once if it already has; returns the undo. */
function closeOnAbort(stream: { close(): void }, signal: AbortSignal | undefined): () => void {
  const close = () => stream.close();
  signal?.addEventListener('abort', close);
  // Abandoned while the knowledge was fetched: the request goes no further.
  if (signal?.aborted) close();
  return () => signal?.removeEventListener('abort', close);
}

/** The reply as kept: what was streamed, or an apology when the LLM failed before a word. */
export function finishReply(
  deps: Pick<ReplyDeps, 'logger'>,
  request: Pick<ReplyRequest, 'onDelta' | 'chatRoomId'>,
  { text, ttftMs, failure }: Streamed,
): Reply {
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

import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { clientGone, pause, sendJson } from './http.js';
import { requestId } from './openai-errors.js';

const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
});

/** The fields of a chat completion request the emulator reads; the rest is kept as sent. */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
});

/** A parsed `POST /v1/chat/completions` body, as logged in `requests.chatCompletions`. */
export type ChatCompletionRequest = z.infer<typeof chatRequestSchema>;

/** What the chat handler needs from the emulator: timing, the scripted reply, a cut. */
export interface ChatScript {
  ttftMs: number;
  tokensPerSecond: number;
  /** The reply text for this request (queue first, then the `reply` option). */
  nextReply(request: ChatCompletionRequest): string;
  /** Tokens to send before dropping the connection, once; `undefined` for no cut. */
  takeCut(): number | undefined;
}

/**
 * Cuts text into word-ish tokens the way a BPE tokenizer roughly does: each word or
 * punctuation mark with the whitespace before it. Joining the pieces gives the text back.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*(?:[\p{L}\p{N}']+|[^\s\p{L}\p{N}'])|\s+/gu) ?? [];
}

/** The text of a message's content, string or parts. */
export function contentText(content: ChatCompletionRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return content.map((part) => part.text ?? '').join(' ');
}

/** Default reply: deterministic, and it names what the user last said. */
export function echoReply(request: ChatCompletionRequest): string {
  const lastUser = request.messages.findLast((message) => message.role === 'user');
  const said = contentText(lastUser?.content)
    .trim()
    .replace(/[.!?]+$/, '');
  return said === ''
    ? 'Hello! What would you like to talk about?'
    : `You said: ${said}. Tell me more.`;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

function usageOf(request: ChatCompletionRequest, completionTokens: number): Usage {
  // ~4 tokens of chat framing per message, as OpenAI counts them, plus the content.
  const promptTokens = request.messages.reduce(
    (sum, message) => sum + 4 + tokenize(contentText(message.content)).length,
    3,
  );
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

interface Completion {
  id: string;
  created: number;
  pieces: string[];
  finishReason: 'stop' | 'length';
  usage: Usage;
}

function complete(request: ChatCompletionRequest, script: ChatScript): Completion {
  const all = tokenize(script.nextReply(request));
  const limit = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const pieces = all.slice(0, limit);
  return {
    id: `chatcmpl-${requestId().slice(4, 30)}`,
    created: Math.floor(Date.now() / 1000),
    pieces,
    finishReason: pieces.length < all.length ? 'length' : 'stop',
    usage: usageOf(request, pieces.length),
  };
}

function tokenIntervalMs(script: ChatScript): number {
  const rate = script.tokensPerSecond;
  return Number.isFinite(rate) && rate > 0 ? 1000 / rate : 0;
}

/** Answers a validated chat completion request, streaming or not. */
export async function answerChat(
  res: ServerResponse,
  request: ChatCompletionRequest,
  script: ChatScript,
): Promise<void> {
  const completion = complete(request, script);
  if (request.stream === true) {
    await streamCompletion(res, request, script, completion);
    return;
  }
  const signal = clientGone(res);
  const generationMs = script.ttftMs + completion.pieces.length * tokenIntervalMs(script);
  if (!(await pause(generationMs, signal))) return;
  sendJson(
    res,
    200,
    {
      id: completion.id,
      object: 'chat.completion',
      created: completion.created,
      model: request.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: completion.pieces.join(''),
            refusal: null,
            annotations: [],
          },
          logprobs: null,
          finish_reason: completion.finishReason,
        },
      ],
      usage: completion.usage,
      service_tier: 'default',
      system_fingerprint: 'fp_emulator',
    },
    { 'x-request-id': requestId() },
  );
}

async function streamCompletion(
  res: ServerResponse,
  request: ChatCompletionRequest,
  script: ChatScript,
  completion: Completion,
): Promise<void> {
  const signal = clientGone(res);
  const cutAfter = script.takeCut();
  if (!(await pause(script.ttftMs, signal))) return;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
  });
  const withUsage = request.stream_options?.include_usage === true ? { usage: null } : {};
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: request.model,
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  };
  const choice = (delta: object, finishReason: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...withUsage,
  });
  await sendEvent(res, choice({ role: 'assistant', content: '', refusal: null }, null));
  for (const [index, piece] of completion.pieces.entries()) {
    if (index === cutAfter) break;
    if (index > 0 && !(await pause(tokenIntervalMs(script), signal))) return;
    await sendEvent(res, choice({ content: piece }, null));
  }
  if (cutAfter !== undefined) {
    // An injected cut: drop the connection with no finish chunk and no [DONE].
    res.destroy();
    return;
  }
  await sendEvent(res, choice({}, completion.finishReason));
  if (request.stream_options?.include_usage === true) {
    await sendEvent(res, { ...base, choices: [], usage: completion.usage });
  }
  res.end('data: [DONE]\n\n');
}

/** Writes one SSE event and waits until it is handed to the socket (so a cut keeps it). */
function sendEvent(res: ServerResponse, data: object): Promise<void> {
  return new Promise((resolve) => {
    res.write(`data: ${JSON.stringify(data)}\n\n`, () => resolve());
  });
}

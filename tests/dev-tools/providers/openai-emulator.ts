import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { listen, readBody, sendJson } from './http.js';
import {
  answerChat,
  type ChatCompletionRequest,
  chatRequestSchema,
  echoReply,
} from './openai-chat.js';
import {
  answerEmbeddings,
  type EmbeddingRequest,
  embeddingRequestSchema,
} from './openai-embeddings.js';
import { sendInjectedFailure, sendInvalidRequest, sendOpenAIError } from './openai-errors.js';
import { isMemoryRequest, memoryReply } from './openai-memories.js';
import { answerTranscription, type TranscriptionRequest } from './openai-transcriptions.js';

export type { ChatCompletionRequest, EmbeddingRequest, TranscriptionRequest };

/** The endpoints failure injection can target. */
export type OpenAIEndpoint = 'chat' | 'embeddings' | 'transcriptions';

/** How to start the emulator; every field is optional. */
export interface OpenAIEmulatorOptions {
  /**
   * Reply text for a chat request when the reply queue is empty. Default: {@link echoReply}.
   * A memory distillation request is answered with a distillation (`openai-memories.ts`).
   */
  reply?: (request: ChatCompletionRequest) => string;
  /** Transcript for uploaded audio when the transcript queue is empty. */
  transcribe?: (audio: Buffer, model: string) => string | Promise<string>;
  /** Transcript when neither the queue nor `transcribe` gives one. */
  defaultTranscript?: string;
  /** Delay before the first chat token (and the response headers). Default 0. */
  ttftMs?: number;
  /** Chat token pace; `Infinity` (default) sends them back to back. */
  tokensPerSecond?: number;
  /** Delay before a transcription answer. Default 0. */
  sttLatencyMs?: number;
  /** Embedding size when the request names none. Default: the model's (1536; 3072 for -3-large). */
  embeddingDimensions?: number;
  /** What `GET /v1/models` lists. */
  models?: string[];
  /** When set, any other bearer token gets a 401; otherwise any non-empty one passes. */
  apiKey?: string;
  /** Port to listen on; default 0 (any free port). Host is always 127.0.0.1. */
  port?: number;
}

/** Every request the emulator parsed, per endpoint, including ones answered with a failure. */
export interface OpenAIRequestLog {
  models: number;
  chatCompletions: ChatCompletionRequest[];
  embeddings: EmbeddingRequest[];
  transcriptions: TranscriptionRequest[];
}

/** A running emulator. Timing fields can be changed while it runs. */
export interface OpenAIEmulator {
  /** What to pass as the SDK's `baseURL`, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseURL: string;
  readonly port: number;
  readonly requests: OpenAIRequestLog;
  ttftMs: number;
  tokensPerSecond: number;
  sttLatencyMs: number;
  /** The next chat request is answered with `text` (queued, first in first out). */
  enqueueReply(text: string): void;
  /** The next transcription answers `text` (queued, first in first out). */
  enqueueTranscript(text: string): void;
  /**
   * The next `count` requests (to `endpoint`, or any) fail with `status` in OpenAI's error
   * shape; a 429 carries `Retry-After: retryAfterSeconds` (default 0).
   */
  failNext(
    count: number,
    status: number,
    options?: { endpoint?: OpenAIEndpoint; retryAfterSeconds?: number },
  ): void;
  /** The next streamed chat completion drops its connection after `afterTokens` tokens. */
  cutNextStream(afterTokens: number): void;
  close(): Promise<void>;
}

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4.1', 'text-embedding-3-small', 'whisper-1'];
const DEFAULT_TRANSCRIPT = 'Hello, can you hear me?';

interface Failure {
  status: number;
  endpoint: OpenAIEndpoint | undefined;
  retryAfterSeconds: number;
}

/** Starts an OpenAI-compatible server on 127.0.0.1 speaking the real wire protocol. */
export async function startOpenAIEmulator(
  options: OpenAIEmulatorOptions = {},
): Promise<OpenAIEmulator> {
  const replies: string[] = [];
  const reply = options.reply ?? echoReply;
  const transcripts: string[] = [];
  const failures: Failure[] = [];
  let cutAfter: number | undefined;
  const requests: OpenAIRequestLog = {
    models: 0,
    chatCompletions: [],
    embeddings: [],
    transcriptions: [],
  };

  const emulator = {
    ttftMs: options.ttftMs ?? 0,
    tokensPerSecond: options.tokensPerSecond ?? Number.POSITIVE_INFINITY,
    sttLatencyMs: options.sttLatencyMs ?? 0,
    requests,
    enqueueReply: (text: string) => void replies.push(text),
    enqueueTranscript: (text: string) => void transcripts.push(text),
    failNext(
      count: number,
      status: number,
      failOptions: { endpoint?: OpenAIEndpoint; retryAfterSeconds?: number } = {},
    ) {
      const failure = {
        status,
        endpoint: failOptions.endpoint,
        retryAfterSeconds: failOptions.retryAfterSeconds ?? 0,
      };
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    cutNextStream(afterTokens: number) {
      cutAfter = afterTokens;
    },
  };

  /** Answers with the first queued failure meant for `endpoint`, if any. */
  const injectFailure = (res: ServerResponse, endpoint: OpenAIEndpoint): boolean => {
    const index = failures.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
    const failure = failures[index];
    if (failure === undefined) return false;
    failures.splice(index, 1);
    sendInjectedFailure(res, failure.status, failure.retryAfterSeconds);
    return true;
  };

  const chat = async (req: IncomingMessage, res: ServerResponse) => {
    const request = await parseJson(req, res, chatRequestSchema);
    if (request === undefined) return;
    requests.chatCompletions.push(request);
    if (injectFailure(res, 'chat')) return;
    await answerChat(res, request, {
      get ttftMs() {
        return emulator.ttftMs;
      },
      get tokensPerSecond() {
        return emulator.tokensPerSecond;
      },
      nextReply: (r) => replies.shift() ?? (isMemoryRequest(r) ? memoryReply : reply)(r),
      takeCut: () => {
        const cut = cutAfter;
        cutAfter = undefined;
        return cut;
      },
    });
  };

  const embeddings = async (req: IncomingMessage, res: ServerResponse) => {
    const request = await parseJson(req, res, embeddingRequestSchema);
    if (request === undefined) return;
    requests.embeddings.push(request);
    if (injectFailure(res, 'embeddings')) return;
    answerEmbeddings(res, request, options.embeddingDimensions);
  };

  const transcriptions = (req: IncomingMessage, res: ServerResponse) =>
    answerTranscription(req, res, {
      get sttLatencyMs() {
        return emulator.sttLatencyMs;
      },
      log: (request) => requests.transcriptions.push(request),
      injectFailure: (r) => injectFailure(r, 'transcriptions'),
      nextTranscript: async (audio, model) =>
        transcripts.shift() ??
        (await options.transcribe?.(audio, model)) ??
        options.defaultTranscript ??
        DEFAULT_TRANSCRIPT,
    });

  const models = options.models ?? DEFAULT_MODELS;
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'GET /v1/models': async (_req, res) => {
      requests.models += 1;
      sendJson(res, 200, { object: 'list', data: models.map(modelObject) });
    },
    'POST /v1/chat/completions': chat,
    'POST /v1/embeddings': embeddings,
    'POST /v1/audio/transcriptions': transcriptions,
  };

  const server = await listen(async (req, res) => {
    if (!authorized(req, res, options.apiKey)) return;
    const path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname.replace(/\/+$/, '');
    const route = routes[`${req.method} ${path}`];
    if (route !== undefined) return route(req, res);
    const model = path.startsWith('/v1/models/') ? path.slice('/v1/models/'.length) : undefined;
    if (req.method === 'GET' && model !== undefined && models.includes(model)) {
      return sendJson(res, 200, modelObject(model));
    }
    sendOpenAIError(res, 404, {
      message: `Invalid URL (${req.method} ${path})`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }, options.port ?? 0);

  return Object.assign(emulator, {
    baseURL: `http://127.0.0.1:${server.port}/v1`,
    port: server.port,
    close: server.close,
  });
}

function modelObject(id: string) {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'system' };
}

/** OpenAI wants `Authorization: Bearer <key>` on every endpoint. */
function authorized(
  req: IncomingMessage,
  res: ServerResponse,
  apiKey: string | undefined,
): boolean {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined) {
    sendOpenAIError(res, 401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    return false;
  }
  if (apiKey !== undefined && token !== apiKey) {
    sendOpenAIError(res, 401, {
      message:
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    return false;
  }
  return true;
}

/** Parses and validates a JSON body, answering a 400 like OpenAI's when it is not valid. */
async function parseJson<T extends z.ZodType>(
  req: IncomingMessage,
  res: ServerResponse,
  schema: T,
): Promise<z.output<T> | undefined> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    sendInvalidRequest(
      res,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
    return undefined;
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join('.') ?? null;
  const missing = issue?.code === 'invalid_type' && issue.input === undefined;
  sendInvalidRequest(
    res,
    missing
      ? `Missing required parameter: '${param}'.`
      : `Invalid value for '${param}': ${issue?.message ?? 'invalid'}.`,
    param,
    missing ? 'missing_required_parameter' : 'invalid_value',
  );
  return undefined;
}

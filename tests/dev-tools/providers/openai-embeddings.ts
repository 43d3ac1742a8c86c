import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { hashEmbedding, toBase64Float32 } from './embedding-hash.js';
import { sendJson, words } from './http.js';
import { requestId, sendInvalidRequest } from './openai-errors.js';

const tokenIds = z.array(z.number().int().nonnegative());

/** The fields of an embeddings request the emulator reads; the rest is kept as sent. */
export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
});

/** A parsed `POST /v1/embeddings` body, as logged in `requests.embeddings`. */
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

const MAX_INPUTS = 2048;

/** Every input as text; token ids become words of their own so equal ids still match. */
function inputTexts(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  const ids = (list: number[]) => list.map((id) => `t${id}`).join(' ');
  return input.every((item) => typeof item === 'number')
    ? [ids(input as number[])]
    : input.map((item) => (Array.isArray(item) ? ids(item) : String(item)));
}

/** What the model natively returns: 3072 for `-3-large`, 1536 for the others. */
function nativeDimensions(model: string): number {
  return model.includes('3-large') ? 3072 : 1536;
}

/** Checks what OpenAI checks; returns the problem or the dimensions to use. */
function dimensionsFor(request: EmbeddingRequest, configured: number | undefined): string | number {
  const native = configured ?? nativeDimensions(request.model);
  if (request.dimensions === undefined) return native;
  if (!request.model.startsWith('text-embedding-3')) {
    return 'This model does not support specifying dimensions.';
  }
  if (request.dimensions > native) {
    return `Invalid value for 'dimensions' = ${request.dimensions}. Must be less than or equal to ${native}.`;
  }
  return request.dimensions;
}

/** Answers a validated embeddings request with feature-hashed vectors, float or base64. */
export function answerEmbeddings(
  res: ServerResponse,
  request: EmbeddingRequest,
  configuredDimensions: number | undefined,
): void {
  const texts = inputTexts(request.input);
  if (texts.length === 0 || texts.length > MAX_INPUTS || texts.some((text) => text === '')) {
    sendInvalidRequest(
      res,
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
    );
    return;
  }
  const dimensions = dimensionsFor(request, configuredDimensions);
  if (typeof dimensions === 'string') {
    sendInvalidRequest(res, dimensions, 'dimensions');
    return;
  }
  const data = texts.map((text, index) => {
    const vector = hashEmbedding(text, dimensions);
    const embedding =
      request.encoding_format === 'base64' ? toBase64Float32(vector) : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const tokens = texts.reduce((sum, text) => sum + Math.max(1, words(text).length), 0);
  sendJson(
    res,
    200,
    {
      object: 'list',
      data,
      model: request.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
    { 'x-request-id': requestId() },
  );
}

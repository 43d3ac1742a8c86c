import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from './http.js';

/** The body OpenAI sends with every non-2xx response. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request id in OpenAI's format; the SDK surfaces it as `requestID`. */
export function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

/** Sends an error the way the OpenAI API does: JSON body, `x-request-id`, extra headers. */
export function sendOpenAIError(
  res: ServerResponse,
  status: number,
  error: OpenAIErrorBody['error'],
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error } satisfies OpenAIErrorBody, {
    'x-request-id': requestId(),
    ...headers,
  });
}

/** A 400 `invalid_request_error`, as OpenAI answers a malformed request. */
export function sendInvalidRequest(
  res: ServerResponse,
  message: string,
  param: string | null = null,
  code: string | null = null,
): void {
  sendOpenAIError(res, 400, { message, type: 'invalid_request_error', param, code });
}

/**
 * The error OpenAI sends for `status`, for failure injection: 429 carries `Retry-After`
 * (seconds, fractions allowed; the SDK waits that long before retrying).
 */
export function sendInjectedFailure(
  res: ServerResponse,
  status: number,
  retryAfterSeconds: number,
): void {
  if (status === 429) {
    sendOpenAIError(
      res,
      429,
      {
        message:
          'Rate limit reached for requests. Limit: 500, Used: 500, Requested: 1. Please try again later.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
      { 'retry-after': String(retryAfterSeconds) },
    );
    return;
  }
  if (status >= 500) {
    sendOpenAIError(res, status, {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      param: null,
      code: null,
    });
    return;
  }
  sendOpenAIError(res, status, {
    message: `Injected failure with status ${status}.`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  });
}

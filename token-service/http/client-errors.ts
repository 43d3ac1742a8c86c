/**
 * Requests that fail before Fastify routes them: Node's HTTP parser refuses them (oversized
 * or malformed headers), the client is too slow to send them, or the URL does not decode.
 * They answer in the same `{"error": {"code", "message"}}` shape as every other failure.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { errorBody, HTTP_STATUS } from './errors.js';

/** Node's parser and server error codes we answer specifically; others are a bad request. */
function refusal(code: string | undefined): { status: number; error: AppError } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: HTTP_STATUS['REQUEST.TIMEOUT'],
        error: new AppError('REQUEST.TIMEOUT', 'The request was not received in time'),
      };
    case 'HPE_HEADER_OVERFLOW':
      // 431, not 413: the status says it is the headers, the code that the request is too big.
      return {
        status: 431,
        error: new AppError('REQUEST.TOO_LARGE', 'The request headers are too large'),
      };
    default:
      return {
        status: HTTP_STATUS['REQUEST.INVALID'],
        error: new AppError('REQUEST.INVALID', 'The request is not valid HTTP'),
      };
  }
}

/**
 * Fastify's `clientErrorHandler`. The socket has no request or reply any more, so the
 * response is written by hand, then the connection is closed (as Node itself does).
 */
export function handleClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, error: appError } = refusal(error.code);
  // Debug, not info: anyone can send these, as often as they like.
  this.log.debug({ code: appError.code, reason: error.code }, 'request refused by the parser');
  if (socket.writable) {
    const body = JSON.stringify(errorBody(appError));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Node's `server.headersTimeout` may not exceed its `requestTimeout`. */
const HEADERS_TIMEOUT_MS = 10_000;
/** How often Node looks for requests past their deadline (its default is 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Fastify options that bound how long a client may take to send its request: the headers
 * within 10 s (or the request timeout, if shorter), the whole request within
 * `requestTimeoutMs`. A handler's own time (a reply being generated) is not counted.
 */
export function requestTimeouts(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, requestTimeoutMs),
    },
  };
}

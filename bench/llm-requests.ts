/**
 * When each LLM request of the measured server went out and when the provider's response
 * began, read from undici's diagnostics channels (the OpenAI SDK calls `fetch`), keyed by the
 * `X-Client-Request-Id` a text turn sets. Runs in the server's process; the server's code is
 * not touched.
 */
import diagnostics from 'node:diagnostics_channel';
import { CLIENT_REQUEST_ID_HEADER } from '../agent/conversation/reply.js';

export interface LlmRequestTiming {
  /** Request headers handed to the socket: epoch milliseconds. */
  sentAt: number;
  /** Response headers parsed (the provider's first byte, as this process saw it). */
  respondedAt?: number;
}

/** The parts of undici's request object read here (internal; not a public type). */
interface UndiciRequest {
  headers: string | string[];
}

const HEADER = CLIENT_REQUEST_ID_HEADER.toLowerCase();
const epochMs = () => performance.timeOrigin + performance.now();

/** The request's `X-Client-Request-Id`, whichever shape this undici keeps headers in. */
function clientRequestId(request: UndiciRequest): string | undefined {
  const { headers } = request;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === HEADER) return String(headers[i + 1]);
    }
    return undefined;
  }
  const line = headers.split('\r\n').find((l) => l.toLowerCase().startsWith(`${HEADER}:`));
  return line?.slice(HEADER.length + 1).trim();
}

/** Records LLM request timings until `stop()`; `timings` maps request id to timing. */
export function recordLlmRequests() {
  const timings = new Map<string, LlmRequestTiming>();
  const byRequest = new WeakMap<object, LlmRequestTiming>();
  const onSend = (message: unknown) => {
    const { request } = message as { request: UndiciRequest };
    const id = clientRequestId(request);
    if (id === undefined) return;
    const timing: LlmRequestTiming = { sentAt: epochMs() };
    timings.set(id, timing);
    byRequest.set(request, timing);
  };
  const onHeaders = (message: unknown) => {
    const { request } = message as { request: object };
    const timing = byRequest.get(request);
    if (timing !== undefined) timing.respondedAt ??= epochMs();
  };
  diagnostics.subscribe('undici:client:sendHeaders', onSend);
  diagnostics.subscribe('undici:request:headers', onHeaders);
  return {
    timings,
    stop() {
      diagnostics.unsubscribe('undici:client:sendHeaders', onSend);
      diagnostics.unsubscribe('undici:request:headers', onHeaders);
    },
  };
}

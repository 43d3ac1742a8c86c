import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** From this API version on, Cartesia sends structured JSON errors instead of text. */
const STRUCTURED_ERRORS_SINCE = '2026-03-01';

/** How a client identified itself: its key and the API version it speaks. */
export interface CartesiaCredentials {
  apiKey: string | undefined;
  version: string | undefined;
  /** Whether the key came in the query string (browsers cannot set WebSocket headers). */
  via: 'header' | 'query';
}

/**
 * Reads the key from `X-API-Key`, `Authorization: Bearer`, or the `api_key` /
 * `access_token` query parameters, and the version from `Cartesia-Version` or the
 * `cartesia_version` query parameter (which wins, as in Cartesia's docs).
 */
export function readCredentials(req: IncomingMessage): CartesiaCredentials {
  const query = new URL(req.url ?? '/', 'http://emulator.invalid').searchParams;
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const bearer = /^Bearer\s+(\S+)$/i.exec(header('authorization') ?? '')?.[1];
  const headerKey = header('x-api-key') ?? bearer;
  const queryKey = query.get('api_key') ?? query.get('access_token') ?? undefined;
  return {
    apiKey: headerKey ?? queryKey,
    version: query.get('cartesia_version') ?? header('cartesia-version'),
    via: headerKey === undefined && queryKey !== undefined ? 'query' : 'header',
  };
}

/** An error as Cartesia describes it, before it is shaped for one API version. */
export interface CartesiaProblem {
  status: number;
  title: string;
  message: string;
  errorCode: string | null;
}

/** Checks key and version; `expectedKey` undefined accepts any non-empty key. */
export function credentialsProblem(
  credentials: CartesiaCredentials,
  expectedKey: string | undefined,
): CartesiaProblem | undefined {
  if (credentials.apiKey === undefined || credentials.apiKey === '') {
    return problem(401, 'Unauthorized', 'No API key provided.', 'missing_api_key');
  }
  if (expectedKey !== undefined && credentials.apiKey !== expectedKey) {
    return problem(401, 'Unauthorized', 'Invalid API key.', 'invalid_api_key');
  }
  if (credentials.version === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(credentials.version)) {
    return problem(400, 'Invalid version', 'Send a Cartesia-Version header (YYYY-MM-DD).', null);
  }
  return undefined;
}

export function problem(
  status: number,
  title: string,
  message: string,
  errorCode: string | null,
): CartesiaProblem {
  return { status, title, message, errorCode };
}

function structured(version: string | undefined): boolean {
  return version !== undefined && version >= STRUCTURED_ERRORS_SINCE;
}

/** An HTTP error body: JSON for new API versions, `Title: Message` text for older ones. */
export function httpErrorBody(
  found: CartesiaProblem,
  version: string | undefined,
): { contentType: string; body: string } {
  if (!structured(version)) {
    return { contentType: 'text/plain', body: `${found.title}: ${found.message}` };
  }
  return {
    contentType: 'application/json',
    body: JSON.stringify({
      error_code: found.errorCode,
      title: found.title,
      message: found.message,
      request_id: randomUUID(),
    }),
  };
}

/** A WebSocket error event for `contextId`, in the shape the client's version expects. */
export function wsErrorEvent(
  found: CartesiaProblem,
  contextId: string,
  version: string | undefined,
): object {
  const base = { type: 'error', done: true, status_code: found.status, context_id: contextId };
  if (!structured(version)) return { ...base, error: `${found.title}: ${found.message}` };
  return {
    ...base,
    error_code: found.errorCode,
    title: found.title,
    message: found.message,
    request_id: randomUUID(),
  };
}

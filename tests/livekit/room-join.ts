import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClaimGrants, TokenVerifier } from 'livekit-server-sdk';

/**
 * One attempt to join a room over LiveKit's signalling WebSocket (`/rtc`, or `/rtc/v1` as
 * `@livekit/rtc-node` 0.13 uses). The fake server records it and then refuses the upgrade:
 * there is no media server behind it.
 */
export interface RoomJoinAttempt {
  /** The request path without its query, e.g. `/rtc/v1`. */
  path: string;
  /** Whether the token verified against the server's API key and secret. */
  tokenValid: boolean;
  /** Why the token did not verify. */
  tokenError: string | undefined;
  /** The verified claims; `undefined` when the token did not verify. */
  claims: ClaimGrants | undefined;
  identity: string | undefined;
  roomName: string | undefined;
  /** `agent` for tokens minted for a job assignment. */
  kind: string | undefined;
  /** The job whose assignment carried this exact token, when this server minted it. */
  jobId: string | undefined;
}

/** The body of every refusal, so an SDK error message says what happened. */
export const NO_MEDIA_SERVER = 'fake LiveKit server: no media server here; join attempt recorded';

/** `Authorization: Bearer …` (what rtc-node sends) or `?access_token=` (older clients). */
export function bearerToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  return url.searchParams.get('access_token') ?? undefined;
}

/** Verifies the join token and describes the attempt. */
export async function readJoinAttempt(
  request: IncomingMessage,
  url: URL,
  verifier: TokenVerifier,
  jobIdForToken: (token: string) => string | undefined,
): Promise<RoomJoinAttempt> {
  const token = bearerToken(request, url);
  const attempt: RoomJoinAttempt = {
    path: url.pathname,
    tokenValid: false,
    tokenError: undefined,
    claims: undefined,
    identity: undefined,
    roomName: undefined,
    kind: undefined,
    jobId: undefined,
  };
  if (token === undefined) return { ...attempt, tokenError: 'no token' };
  try {
    const claims: ClaimGrants = await verifier.verify(token);
    return {
      ...attempt,
      tokenValid: true,
      claims,
      identity: claims.sub,
      roomName: claims.video?.room,
      kind: claims.kind,
      jobId: jobIdForToken(token),
    };
  } catch (error) {
    return { ...attempt, tokenError: error instanceof Error ? error.message : String(error) };
  }
}

/** 401 for a bad token, 403 otherwise: client errors, so the SDK gives up without retrying. */
function refusal(attempt: RoomJoinAttempt): { status: number; body: string } {
  if (!attempt.tokenValid) return { status: 401, body: `invalid token: ${attempt.tokenError}` };
  return { status: 403, body: NO_MEDIA_SERVER };
}

/** Refuses a WebSocket upgrade on the raw socket. */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Forbidden';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function refuseJoin(socket: Duplex, attempt: RoomJoinAttempt): void {
  const { status, body } = refusal(attempt);
  refuseUpgrade(socket, status, body);
}

/**
 * Answers `GET /rtc/validate` (and `/rtc/v1/validate`), which the SDK calls after a failed
 * upgrade to learn why, with the same status and text as the refusal.
 */
export async function answerValidate(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  verifier: TokenVerifier,
): Promise<void> {
  const attempt = await readJoinAttempt(request, url, verifier, () => undefined);
  const { status, body } = refusal(attempt);
  response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

/**
 * Every failure Parley reports to a client carries one of these codes. Codes are stable
 * strings because they cross process and network boundaries; each transport maps them to
 * its own status (HTTP status, WebSocket error frame) in exactly one place.
 */
export type ErrorCode =
  | 'AUTH.MISSING'
  | 'AUTH.INVALID'
  | 'AUTH.UNAVAILABLE'
  | 'AUTH.DEV_SESSIONS_DISABLED'
  | 'REQUEST.INVALID'
  | 'REQUEST.TOO_LARGE'
  | 'REQUEST.UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST.RATE_LIMITED'
  | 'REQUEST.TIMEOUT'
  | 'ROUTE.NOT_FOUND'
  | 'ROOM.FORBIDDEN'
  | 'ROOM.NOT_FOUND'
  | 'CHARACTER.NOT_FOUND'
  | 'CHARACTER.FORBIDDEN'
  /** The room exists and is the user's, but its character is no longer visible to them. */
  | 'CHARACTER.UNAVAILABLE'
  | 'DOCUMENT.NOT_FOUND'
  /** No such memory in this room (or the room is not the caller's). */
  | 'MEMORY.NOT_FOUND'
  /** No such voice, or a cloned voice that belongs to someone else (reported alike). */
  | 'VOICE.NOT_FOUND'
  /** A voice clip that is not a mono 16-bit PCM WAV file. */
  | 'VOICE.CLIP_FORMAT'
  | 'VOICE.CLIP_TOO_SHORT'
  | 'VOICE.CLIP_TOO_LONG'
  /** The user already has as many cloned voices as one user may. */
  | 'VOICE.TOO_MANY'
  /** An uploaded file holds no text Parley can read (bad UTF-8, broken or image-only PDF). */
  | 'DOCUMENT.UNREADABLE'
  /** An uploaded picture that does not decode as PNG, JPEG or WebP. */
  | 'PICTURE.UNREADABLE'
  | 'SESSION.NOT_FOUND'
  | 'SESSION.FORBIDDEN'
  | 'SESSION.UNAVAILABLE'
  /** The user already holds as many direct calls as one user may. */
  | 'SESSION.TOO_MANY'
  | 'LIVEKIT.NOT_CONFIGURED'
  | 'PROVIDER.UNAVAILABLE'
  | 'PROVIDER.NOT_CONFIGURED'
  | 'PROVIDER.FAILED'
  | 'DATABASE.UNAVAILABLE'
  | 'CONFIG.INVALID'
  | 'INTERNAL';

/** The one error type Parley throws on purpose. `details` is safe to show a client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

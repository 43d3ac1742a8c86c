/**
 * The JSON frames of `/ws/chat`. Every frame is one JSON object with a `type`.
 *
 * Connect to `/ws/chat?character_id=<uuid>` (your room with that character, created on first
 * use) or `/ws/chat?chat_room_id=<id>` (one of your rooms). Authenticate either with the
 * sub-protocols `['parley.v1', 'bearer.<access token>']`, or by sending `auth` as the first
 * frame. Never put the token in the URL.
 *
 * Client to server:
 * - `{"type":"auth","token":"<access token>"}` — only as the first frame, only without a
 *   bearer sub-protocol.
 * - `{"type":"message","client_id":"<unique id>","text":"Hello"}` — say something. Sending the
 *   same `client_id` again (after a reconnect) stores nothing twice and answers with the
 *   stored messages.
 *
 * Server to client:
 * - `{"type":"ready","chat_room_id":1,"character_id":"<uuid>"}` — authenticated; send messages.
 * - `{"type":"delta","client_id":"…","text":"Hel"}` — the reply as it is generated.
 * - `{"type":"message","client_id":"…","id":7,"seq":3,"role":"user"|"character","text":"…"}`
 *   — a message as stored: first the user's, then the character's. The character's greeting,
 *   which no client message asked for, has `"client_id":""`.
 * - `{"type":"error","code":"REQUEST.INVALID","message":"…","client_id"?:"…"}` — the frame or
 *   turn failed; the connection stays open unless it is closed right after.
 *
 * Close codes: 1009 frame too large, 4401 not authenticated, 4403 room not yours, 4404 room or
 * character not found, 1011 server error, 1001 server shutting down.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS } from '../chat/limits.js';
import { fieldWithNul } from '../http/nul-guard.js';

/** Incoming frames larger than this close the connection with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;

export const authFrame = z.object({ type: z.literal('auth'), token: z.string().min(1) }).strict();

export const messageFrame = z
  .object({
    type: z.literal('message'),
    client_id: z.string().min(1).max(MAX_CLIENT_ID_CHARS),
    text: z.string().trim().min(1).max(MAX_MESSAGE_CHARS),
  })
  .strict();

export const clientFrame = z.discriminatedUnion('type', [authFrame, messageFrame]);

export type AuthFrame = z.infer<typeof authFrame>;
export type MessageFrame = z.infer<typeof messageFrame>;
export type ClientFrame = z.infer<typeof clientFrame>;

/** Which room a connection talks in, from the URL's query string. */
export const roomQuery = z
  .object({
    chat_room_id: z.coerce.number().int().positive().max(2_147_483_647).optional(),
    character_id: z.uuid().optional(),
  })
  .strict()
  .refine(
    (query) => (query.chat_room_id === undefined) !== (query.character_id === undefined),
    'give exactly one of chat_room_id and character_id',
  );

export type ServerFrame =
  | { type: 'ready'; chat_room_id: number; character_id: string }
  | { type: 'delta'; client_id: string; text: string }
  | {
      type: 'message';
      client_id: string;
      id: number;
      seq: number;
      role: 'user' | 'character';
      text: string;
    }
  | { type: 'error'; code: ErrorCode; message: string; client_id?: string; details?: unknown };

/** Parses one text frame; the error says what was wrong, for the error frame. */
export function parseClientFrame(
  raw: string,
): { ok: true; frame: ClientFrame } | { ok: false; message: string; details?: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, message: 'Frames must be JSON objects' };
  }
  const nul = fieldWithNul(json);
  if (nul !== undefined) {
    const details = [{ field: nul, message: 'must not contain a NUL character' }];
    return { ok: false, message: `Invalid frame: ${nul}: ${details[0]?.message}`, details };
  }
  const parsed = clientFrame.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const details = parsed.error.issues.map((issue) => ({
    field: issue.path.join('.'),
    message: issue.message,
  }));
  const summary = details.map((d) => (d.field === '' ? d.message : `${d.field}: ${d.message}`));
  return { ok: false, message: `Invalid frame: ${summary.join('; ')}`, details };
}

/**
 * The messages the server sends the page on a direct call's data channel. The page opens one
 * data channel (label {@link DATA_CHANNEL_LABEL}) in its offer; every message on it is one
 * JSON object with a `type`:
 *
 * - `{"type":"state","state":"initializing"|"listening"|"thinking"|"speaking"}` — what the
 *   character is doing. Sent once when the session starts and on every change.
 * - `{"type":"caption","role":"user"|"character","text":"…","final":false}` — the turn in
 *   progress: what the user has said so far (from speech-to-text), or the reply as it is
 *   generated. Each one replaces the previous caption of that role.
 * - `{"type":"caption","role":"user"|"character","text":"…","final":true}` — a message as it
 *   is stored, exactly once per message: for an interrupted reply, the part that was spoken.
 *
 * The page may send `{"type":"image","data":"data:image/jpeg;base64,…"}`: a snapshot of its
 * camera, which the character sees with the next spoken turn (at most {@link MAX_IMAGE_CHARS}).
 */
export const DATA_CHANNEL_LABEL = 'parley';

/** What the character is doing, as the page shows it. */
export type CharacterState = 'initializing' | 'listening' | 'thinking' | 'speaking';

export type StateMessage = { type: 'state'; state: CharacterState };

export type CaptionMessage = {
  type: 'caption';
  role: 'user' | 'character';
  text: string;
  final: boolean;
};

/** Server to page. */
export type ServerMessage = StateMessage | CaptionMessage;

/** Largest camera snapshot the page may send, as a data URL (about 190 kB of JPEG). */
export const MAX_IMAGE_CHARS = 256 * 1024;

/** A camera snapshot from the page, or undefined when `message` is anything else. */
export function imageFromMessage(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, data } = message as { type?: unknown; data?: unknown };
  if (type !== 'image' || typeof data !== 'string') return undefined;
  if (data.length > MAX_IMAGE_CHARS) return undefined;
  return /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/.test(data) ? data : undefined;
}

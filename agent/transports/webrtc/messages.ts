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
 * - `{"type":"error","code":"REQUEST.RATE_LIMITED","message":"…"}` — the user's last turn got
 *   no reply for this reason; the call goes on.
 * - `{"type":"ended","code":"CHARACTER.UNAVAILABLE","message":"…"}` — the server is ending the
 *   call for this reason (an error code of `core/errors.ts`); the peer closes right after.
 *
 * The server ignores anything the page sends on the channel.
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

/** The server hangs up, and says why. */
export type EndedMessage = { type: 'ended'; code: string; message: string };

/** A user turn was refused (no reply); the call goes on. */
export type ErrorMessage = { type: 'error'; code: string; message: string };

/** Server to page. */
export type ServerMessage = StateMessage | CaptionMessage | ErrorMessage | EndedMessage;

/**
 * The idempotency keys stored in `messages.client_id`, in two namespaces that cannot meet:
 * - a client's id (`client_id` of `POST /api/chat` or `/ws/chat`) is stored as `c:<id>`;
 * - the server's own keys never start with `c:`: `greeting`, `reply:<the user message's key>`,
 *   and the voice paths' chat item ids (`item_…`).
 * So a client may choose any id, `greeting` and `x:reply` included, without its message being
 * mistaken for one of the server's. Rows stored before this scheme are rewritten by migration
 * `0002_client_id_namespaces.sql`.
 */

const CLIENT_PREFIX = 'c:';

/** The stored key of a client-chosen message id. */
export function clientKey(clientId: string): string {
  return `${CLIENT_PREFIX}${clientId}`;
}

/** The stored key of the character's reply to the user message stored under `userKey`. */
export function replyKey(userKey: string): string {
  return `reply:${userKey}`;
}

/** A room's greeting is stored once under this key, whichever way the user arrives first. */
export const GREETING_KEY = 'greeting';

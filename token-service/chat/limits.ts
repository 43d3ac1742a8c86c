/** The longest message a user may type, in characters, on every text path. */
export const MAX_MESSAGE_CHARS = 8_000;
/** The longest client-chosen message id (idempotency key). */
export const MAX_CLIENT_ID_CHARS = 100;

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { SYSTEM_PROFILE_ID } from '../../db/queries/profiles.js';
import type { LocalIssuer } from './local-issuer.js';

/**
 * The body of `POST /auth/dev-session`. The web page stores the `user.id` it got back and
 * sends it as `user_id` next time, so a reload (or an expired token) keeps the same user and
 * history; without `user_id` a new user is made. There is no password: whoever can reach the
 * endpoint can be any local user, which is why it is loopback-only unless the operator opts in.
 */
export const devSessionRequestSchema = z
  .object({
    display_name: z.string().trim().min(1).max(64).optional(),
    user_id: z.uuid().optional(),
  })
  .strict();

export type DevSessionRequest = z.output<typeof devSessionRequestSchema>;

/** Shaped like a Supabase session, minus the refresh token: ask again to renew. */
export interface DevSession {
  access_token: string;
  token_type: 'bearer';
  /** Seconds. */
  expires_in: number;
  /** Seconds since the epoch. */
  expires_at: number;
  user: { id: string; display_name?: string };
}

export interface DevSessionDeps {
  issuer: LocalIssuer;
  /** `devSessionsAllowed(host, allowDevSessions)`, and no Supabase project configured. */
  devSessionsEnabled: boolean;
}

/** Issues a local access token for a new or returning local user. */
export async function createDevSession(
  deps: DevSessionDeps,
  request: DevSessionRequest,
): Promise<DevSession> {
  if (!deps.devSessionsEnabled) {
    throw new AppError('AUTH.DEV_SESSIONS_DISABLED', 'Dev sessions are disabled on this server');
  }
  const id = request.user_id?.toLowerCase() ?? randomUUID();
  if (id === SYSTEM_PROFILE_ID) {
    throw new AppError('REQUEST.INVALID', 'This user id is reserved', {
      details: [{ in: 'body', field: 'user_id', message: 'is reserved' }],
    });
  }
  const user =
    request.display_name === undefined ? { id } : { id, displayName: request.display_name };
  const token = await deps.issuer.issueAccessToken(user);
  const session: DevSession = {
    access_token: token.accessToken,
    token_type: 'bearer',
    expires_in: token.expiresIn,
    expires_at: token.expiresAt,
    user: { id },
  };
  if (request.display_name !== undefined) session.user.display_name = request.display_name;
  return session;
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { AuthDeps } from '../app-deps.js';
import { createDevSession, devSessionRequestSchema } from '../auth/dev-session.js';
import { isDirectLoopbackCaller } from '../auth/local-issuer.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';

const tags = ['auth'];

const devSessionResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    expires_at: z.number().int(),
    user: z.object({ id: z.uuid(), display_name: z.string().optional() }),
  })
  .meta({ id: 'DevSession' });

/**
 * The embedded issuer's endpoints, for servers without a Supabase project: a dev session for a
 * local user, and the public keys its tokens are signed with. With Supabase configured the
 * session endpoint refuses and the key set is not served (Supabase serves its own).
 */
export const devAuthRoutes: FastifyPluginAsyncZod<{ auth: AuthDeps }> = async (app, { auth }) => {
  const { localIssuer } = auth;

  app.post(
    '/auth/dev/session',
    {
      schema: {
        tags,
        summary: 'A short-lived access token for a local user (embedded issuer only)',
        description:
          'Send the returned `user.id` back as `user_id` to stay the same user. Refused unless ' +
          'the server listens on loopback, has no public URL and the caller is this machine ' +
          '(no proxy headers), or ALLOW_DEV_SESSIONS is set; and always when ' +
          'Supabase is configured.',
        // Absent when the client posts nothing: a new user with no name.
        body: devSessionRequestSchema.nullish(),
        response: { 200: devSessionResponse, ...errorResponses, 403: errorResponseSchema },
      },
    },
    async (request) => {
      if (localIssuer === undefined) {
        throw new AppError(
          'AUTH.DEV_SESSIONS_DISABLED',
          'This server signs in with Supabase; dev sessions are off',
        );
      }
      // Decided by the caller, not the listen address: a proxy on loopback is not this machine.
      const callerAllowed =
        auth.devSessionsFromAnyCaller === true || isDirectLoopbackCaller(request.raw);
      return createDevSession(
        { issuer: localIssuer, devSessionsEnabled: auth.devSessionsEnabled && callerAllowed },
        request.body ?? {},
      );
    },
  );

  if (localIssuer === undefined) return;
  app.get(
    '/auth/v1/.well-known/jwks.json',
    {
      schema: {
        tags,
        summary: 'The embedded issuer’s public keys (JWKS)',
        response: {
          200: z.object({ keys: z.array(z.looseObject({ kid: z.string().optional() })) }),
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=600');
      return localIssuer.jwks;
    },
  );
};

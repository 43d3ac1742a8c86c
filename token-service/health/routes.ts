import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatabaseHandle } from '../../db/client.js';
import { errorResponseSchema } from '../http/errors.js';

const tags = ['health'];

/** `/health`: the process answers. `/ready`: and its database does too. */
export const healthRoutes: FastifyPluginAsyncZod<{
  database: Pick<DatabaseHandle, 'ping'>;
}> = async (app, { database }) => {
  app.get(
    '/health',
    {
      logLevel: 'warn',
      schema: {
        tags,
        summary: 'Alive',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      logLevel: 'warn',
      schema: {
        tags,
        summary: 'Ready to serve: the database answers',
        response: { 200: z.object({ status: z.literal('ready') }), 503: errorResponseSchema },
      },
    },
    async () => {
      await database.ping();
      return { status: 'ready' as const };
    },
  );
};

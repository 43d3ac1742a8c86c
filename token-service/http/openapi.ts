import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** Security requirement for routes that need `Authorization: Bearer <access token>`. */
export const BEARER_SECURITY = [{ bearerAuth: [] }];

/**
 * Routes that take a file as it is (a WAV clip, a picture, a document) name its media
 * types in `consumes` and read the raw body, with no body schema to validate; the spec still
 * has to say a body is sent, or a client generated from it would send none.
 */
const withRawBodies: SwaggerTransform = (input) => {
  const { schema, url } = jsonSchemaTransform(input);
  if (schema.body !== undefined || schema.consumes === undefined) return { schema, url };
  return { schema: { ...schema, body: { type: 'string', format: 'binary' } }, url };
};

/**
 * OpenAPI 3 generated from the routes' zod schemas, served at `/openapi.json`, with the
 * interactive docs at `/docs`. Register before the routes so it sees them.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        description: 'Talk to AI characters by voice, video or text.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A Supabase access token, or one from POST /auth/dev/session',
          },
        },
      },
    },
    transform: withRawBodies,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

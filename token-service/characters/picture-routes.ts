import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ownCharacter, visibleCharacter } from '../../core/access/character-access.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { getPicture, savePicture } from '../../db/queries/character-pictures.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { acceptRawBody, uploadErrorResponses } from '../http/raw-body.js';
import {
  etagOf,
  initialSvg,
  MAX_PICTURE_BYTES,
  PICTURE_SIZE,
  PICTURE_TYPES,
  resizePicture,
} from './picture.js';
import { characterParams } from './schemas.js';

const tags = ['characters'];
/**
 * Who may see a picture depends on the caller, so shared caches must not keep it; the
 * browser keeps it and asks again with If-None-Match, which costs a 304 and no bytes.
 */
const CACHE_CONTROL = 'private, no-cache';

/** Upload (PUT, raw image body) and read (GET) a character's picture. */
export const pictureRoutes: FastifyPluginAsyncZod<{ db: Executor }> = async (app, { db }) => {
  acceptRawBody(app, [...PICTURE_TYPES], MAX_PICTURE_BYTES);

  app.put(
    '/api/characters/:id/picture',
    {
      onRequest: requireImageType,
      bodyLimit: MAX_PICTURE_BYTES,
      schema: {
        tags,
        summary: 'Give your character a picture',
        description:
          `Send a PNG, JPEG or WebP image as the body (at most ${MAX_PICTURE_BYTES} bytes) with ` +
          `its content-type. It is cropped to a centred ${PICTURE_SIZE}×${PICTURE_SIZE} ` +
          'square and stored as WebP, replacing the previous picture.',
        security: BEARER_SECURITY,
        consumes: [...PICTURE_TYPES],
        params: characterParams,
        response: {
          204: z.null().describe('Stored; the ETag header names the new picture'),
          ...uploadErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.id);
      if (!Buffer.isBuffer(request.body)) throw unsupported();
      const picture = await resizePicture(request.body);
      await savePicture(db, { characterId: character.id, ...picture });
      return reply.status(204).header('etag', picture.etag).send(null);
    },
  );

  app.get(
    '/api/characters/:id/picture',
    {
      schema: {
        tags,
        summary: 'A character’s picture, or its initial (SVG) when it has none',
        description:
          'Seen by whoever may see the character. Sends an ETag; with a matching ' +
          'If-None-Match the answer is 304 without a body.',
        security: BEARER_SECURITY,
        params: characterParams,
        produces: ['image/webp', 'image/svg+xml'],
        response: {
          200: z.any().describe('image/webp or image/svg+xml'),
          304: z.null().describe('Not modified'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const character = await visibleCharacter(db, user.id, request.params.id);
      const stored = await getPicture(db, character.id);
      const svg = stored === undefined ? initialSvg(character) : undefined;
      const etag = stored?.etag ?? etagOf(svg ?? '');
      reply.header('etag', etag).header('cache-control', CACHE_CONTROL);
      if (matches(request.headers['if-none-match'], etag)) return reply.status(304).send(null);
      if (stored !== undefined) return reply.type(stored.contentType).send(stored.bytes);
      return reply.type('image/svg+xml').send(svg);
    },
  );
};

/** If-None-Match holds `*` or a list of tags, possibly weak (`W/"…"`). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

function unsupported(): AppError {
  return new AppError(
    'REQUEST.UNSUPPORTED_MEDIA_TYPE',
    `Send the picture as the body with content-type ${PICTURE_TYPES.join(', ')}`,
  );
}

async function requireImageType(request: { headers: Record<string, unknown> }): Promise<void> {
  const header = request.headers['content-type'];
  const type = typeof header === 'string' ? header.split(';')[0]?.trim().toLowerCase() : '';
  if (!(PICTURE_TYPES as readonly string[]).includes(type ?? '')) throw unsupported();
}

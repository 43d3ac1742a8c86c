/**
 * Uploads whose body is the file itself (a picture, a document, a voice clip): the raw bytes
 * reach the handler as a Buffer, and the routes answer the same refusals for a body too large
 * (413), of the wrong type (415) or unreadable (422).
 */
import type { FastifyInstance } from 'fastify';
import { errorResponseSchema, errorResponses } from './errors.js';

/**
 * Hands bodies of `contentTypes` to the handler as a Buffer of at most `bodyLimit` bytes. Call
 * it inside the plugin that owns the upload route: the parser is scoped to that plugin.
 */
export function acceptRawBody(
  app: Pick<FastifyInstance, 'addContentTypeParser'>,
  contentTypes: string | string[],
  bodyLimit: number,
): void {
  app.addContentTypeParser(contentTypes, { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
}

/** The standard error responses and an upload's own, to spread into its `response` schema. */
export const uploadErrorResponses = {
  ...errorResponses,
  413: errorResponseSchema,
  415: errorResponseSchema,
  422: errorResponseSchema,
};

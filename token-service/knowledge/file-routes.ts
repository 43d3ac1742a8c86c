import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { embeddingsNotConfigured } from '../../agent/providers/status.js';
import { ownCharacter } from '../../core/access/character-access.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { acceptRawBody, uploadErrorResponses } from '../http/raw-body.js';
import { fileText, kindOf } from './file-text.js';
import { type KnowledgeRoutesOptions, teachDocument } from './routes.js';
import { documentView, toDocumentView } from './schemas.js';

const tags = ['knowledge'];
const characterParams = z.object({ characterId: z.uuid() });
const fileQuery = z.object({
  /** The file's name as picked: its extension (.txt, .md, .pdf) says how to read it. */
  filename: z.string().trim().min(1).max(200),
});
const searchQuery = z.object({ q: z.string().trim().min(1).max(1_000) });

export const passageView = z
  .object({
    document_id: z.uuid(),
    content: z.string(),
    /** Cosine similarity to the query, 1 for the same direction. */
    similarity: z.number(),
  })
  .meta({ id: 'KnowledgePassage' });

/**
 * Files as a person has them (the page's upload with a progress bar), and a search that
 * shows what the character would be told for a question. Only the owner may use either.
 */
export const knowledgeFileRoutes: FastifyPluginAsyncZod<KnowledgeRoutesOptions> = async (
  app,
  { db, knowledge, background, limits, embeddingsConfigured },
) => {
  // The raw file is the body; the JSON parser is untouched elsewhere (this plugin is scoped).
  acceptRawBody(app, 'application/octet-stream', limits.maxFileBytes);

  app.post(
    '/api/characters/:characterId/documents/file',
    {
      bodyLimit: limits.maxFileBytes,
      schema: {
        tags,
        summary: 'Teach your character a .txt, .md or .pdf file',
        description:
          'The body is the file itself as `application/octet-stream`; `filename` picks how it ' +
          'is read. A PDF’s text is extracted (pdf.js); scanned pages without text give 422 ' +
          '`DOCUMENT.UNREADABLE`. Answers at once with status `pending`, like the JSON upload.',
        security: BEARER_SECURITY,
        params: characterParams,
        querystring: fileQuery,
        consumes: ['application/octet-stream'],
        response: {
          202: documentView,
          ...uploadErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      const kind = kindOf(request.query.filename);
      const bytes = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
      const text = await fileText(kind, bytes);
      const document = await teachDocument(
        { db, knowledge, background, limits },
        { userId: user.id, characterId: character.id, log: request.log },
        { title: request.query.filename, ...text },
      );
      return reply.status(202).send(toDocumentView(document));
    },
  );

  app.get(
    '/api/characters/:characterId/knowledge',
    {
      schema: {
        tags,
        summary: 'What your character knows about a question',
        description:
          'The passages a conversation turn would be given for `q`, by the same retrieval ' +
          '(top K, minimum similarity, timeout). Empty while documents are `pending`. Needs an ' +
          'embedding provider: without one, 503 `PROVIDER.NOT_CONFIGURED` names the variable.',
        security: BEARER_SECURITY,
        params: characterParams,
        querystring: searchQuery,
        response: { 200: z.array(passageView), ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      if (!embeddingsConfigured) throw embeddingsNotConfigured();
      const passages = await knowledge.retriever.retrieve(character.id, request.query.q);
      return passages.map((p) => ({
        document_id: p.documentId,
        content: p.content,
        similarity: p.similarity,
      }));
    },
  );
};

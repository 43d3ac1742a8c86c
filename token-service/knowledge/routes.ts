import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ownCharacter } from '../../core/access/character-access.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  createDocument,
  deleteDocument,
  getDocument,
  knowledgeCharsOfOwner,
  listDocuments,
} from '../../db/queries/knowledge.js';
import type { KnowledgeDocument } from '../../db/schema.js';
import type { AppConfig, KnowledgePort } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import type { BackgroundTasks } from '../background-tasks.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import {
  documentDetailView,
  documentView,
  toDocumentDetailView,
  toDocumentView,
  uploadDocumentBody,
} from './schemas.js';

export interface KnowledgeRoutesOptions {
  db: Executor;
  knowledge: KnowledgePort;
  background: BackgroundTasks;
  limits: AppConfig['knowledge'];
  /** Whether an embedding provider is configured; without one, search refuses (503). */
  embeddingsConfigured: boolean;
}

const tags = ['knowledge'];
const characterParams = z.object({ characterId: z.uuid() });
const documentParams = characterParams.extend({ documentId: z.uuid() });

/** Documents that teach the caller's own characters; ingestion runs after the upload returns. */
export const knowledgeRoutes: FastifyPluginAsyncZod<KnowledgeRoutesOptions> = async (
  app,
  { db, knowledge, background, limits },
) => {
  app.post(
    '/api/characters/:characterId/documents',
    {
      schema: {
        tags,
        summary: 'Teach your character a text or Markdown document',
        description: 'Answers at once with status `pending`; poll the document for `ready`.',
        security: BEARER_SECURITY,
        params: characterParams,
        body: uploadDocumentBody,
        response: { 202: documentView, ...errorResponses, 413: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      const document = await teachDocument(
        { db, knowledge, background, limits },
        { userId: user.id, characterId: character.id, log: request.log },
        {
          title: request.body.title,
          contentType: request.body.content_type,
          content: request.body.content,
        },
      );
      return reply.status(202).send(toDocumentView(document));
    },
  );

  app.get(
    '/api/characters/:characterId/documents',
    {
      schema: {
        tags,
        summary: 'Your character’s documents (without their text)',
        security: BEARER_SECURITY,
        params: characterParams,
        response: { 200: z.array(documentView), ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      return (await listDocuments(db, character.id)).map(toDocumentView);
    },
  );

  app.get(
    '/api/characters/:characterId/documents/:documentId',
    {
      schema: {
        tags,
        summary: 'One document with its text',
        security: BEARER_SECURITY,
        params: documentParams,
        response: { 200: documentDetailView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      const document = await getDocument(db, request.params.documentId);
      if (document === undefined || document.characterId !== character.id) throw notFound();
      return toDocumentDetailView(document);
    },
  );

  app.delete(
    '/api/characters/:characterId/documents/:documentId',
    {
      schema: {
        tags,
        summary: 'Forget a document and its chunks',
        security: BEARER_SECURITY,
        params: documentParams,
        response: { 204: z.undefined(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const character = await ownCharacter(db, user.id, request.params.characterId);
      const deleted = await deleteDocument(db, {
        id: request.params.documentId,
        characterId: character.id,
      });
      if (!deleted) throw notFound();
      return reply.status(204).send();
    },
  );
};

/**
 * Stores a document for the caller's character and ingests it after the answer: the JSON
 * upload and the file upload differ only in how they get the text.
 */
export async function teachDocument(
  { db, knowledge, background, limits }: Omit<KnowledgeRoutesOptions, 'embeddingsConfigured'>,
  by: { userId: string; characterId: string; log: FastifyBaseLogger },
  text: { title: string; contentType: KnowledgeDocument['contentType']; content: string },
): Promise<KnowledgeDocument> {
  await checkSize(db, limits, by.userId, text.content.length);
  const document = await createDocument(db, { characterId: by.characterId, ...text });
  background.track(ingestInBackground(knowledge, document, by.log));
  return document;
}

/**
 * Refuses a document longer than the per-document limit, or one that would take the user's
 * characters past the per-user total (checked before storing; two uploads at the same moment
 * may both pass once).
 */
async function checkSize(
  db: Executor,
  limits: AppConfig['knowledge'],
  userId: string,
  chars: number,
): Promise<void> {
  if (chars > limits.maxDocumentChars) {
    throw new AppError(
      'REQUEST.TOO_LARGE',
      `A document may have at most ${limits.maxDocumentChars} characters`,
      { details: { limit_chars: limits.maxDocumentChars, document_chars: chars } },
    );
  }
  const used = await knowledgeCharsOfOwner(db, userId);
  if (used + chars > limits.maxCharsPerUser) {
    throw new AppError(
      'REQUEST.TOO_LARGE',
      `Your characters' documents may hold at most ${limits.maxCharsPerUser} characters in all`,
      { details: { limit_chars: limits.maxCharsPerUser, used_chars: used, document_chars: chars } },
    );
  }
}

function notFound(): AppError {
  return new AppError('DOCUMENT.NOT_FOUND', 'No such document for this character');
}

/** The use case marks the document failed itself; here the failure is only logged, once. */
async function ingestInBackground(
  knowledge: KnowledgePort,
  document: KnowledgeDocument,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    await knowledge.ingestDocument(document);
  } catch (error) {
    log.error({ err: error, documentId: document.id }, 'document ingestion failed');
  }
}

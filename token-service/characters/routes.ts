import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ownCharacter, visibleCharacter } from '../../core/access/character-access.js';
import type { Executor } from '../../db/client.js';
import {
  createCharacter,
  listVisibleCharacters,
  updateOwnCharacter,
} from '../../db/queries/characters.js';
import { listGallery } from '../../db/queries/gallery.js';
import { documentCountsByCharacter } from '../../db/queries/knowledge.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { checkVoiceUsable } from '../voices/clones.js';
import { pictureRoutes } from './picture-routes.js';
import {
  type CharacterView,
  characterColumns,
  characterParams,
  characterView,
  createCharacterBody,
  listCharactersQuery,
  toCharacterView,
  updateCharacterBody,
} from './schemas.js';

const tags = ['characters'];

/**
 * Tells everything in this process that keeps a character in memory (the text conversations,
 * the room token's visibility) that it changed, so the next turn or token reads it afresh.
 */
export type CharacterChanged = (characterId: string) => void;

/** Characters: list the public ones and your own, create, read, and update your own. */
export const characterRoutes: FastifyPluginAsyncZod<{
  db: Executor;
  changed: CharacterChanged;
}> = async (app, { db, changed }) => {
  await app.register(pictureRoutes, { db });
  app.get(
    '/api/characters',
    {
      schema: {
        tags,
        summary: 'Public characters and your own, or the gallery of others’ public ones',
        description:
          'With `public=true`: other people’s public characters matching `q`, by `sort` ' +
          '(`popular`: most conversations first; `new`), `limit` at a time from `offset`. ' +
          'A page shorter than `limit` is the last. Private characters are never listed.',
        security: BEARER_SECURITY,
        querystring: listCharactersQuery,
        response: { 200: z.array(characterView), ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { public: gallery, ...page } = request.query;
      if (gallery === 'true') return galleryPage(db, user.id, page);
      const rows = await listVisibleCharacters(db, user.id);
      const counts = await documentCountsByCharacter(
        db,
        rows.map((character) => character.id),
      );
      return rows.map((character) => toCharacterView(character, user.id, counts.get(character.id)));
    },
  );

  app.post(
    '/api/characters',
    {
      schema: {
        tags,
        summary: 'Create a character',
        security: BEARER_SECURITY,
        body: createCharacterBody,
        response: { 201: characterView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const { name, instructions, ...rest } = request.body;
      if (rest.voice_id) await checkVoiceUsable(db, user.id, rest.voice_id);
      const character = await createCharacter(db, {
        ...characterColumns(rest),
        ownerId: user.id,
        name,
        instructions,
      });
      return reply.status(201).send(toCharacterView(character, user.id));
    },
  );

  app.get(
    '/api/characters/:id',
    {
      schema: {
        tags,
        summary: 'One character you may talk to',
        security: BEARER_SECURITY,
        params: characterParams,
        response: { 200: characterView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const character = await visibleCharacter(db, user.id, request.params.id);
      const counts = await documentCountsByCharacter(db, [character.id]);
      return toCharacterView(character, user.id, counts.get(character.id));
    },
  );

  app.patch(
    '/api/characters/:id',
    {
      schema: {
        tags,
        summary: 'Change your own character',
        security: BEARER_SECURITY,
        params: characterParams,
        body: updateCharacterBody,
        response: { 200: characterView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { id } = request.params;
      if (request.body.voice_id) await checkVoiceUsable(db, user.id, request.body.voice_id);
      const patch = characterColumns(request.body);
      const updated = await updateOwnCharacter(db, { id, ownerId: user.id, patch });
      if (updated !== undefined) changed(updated.id);
      // Nothing updated: say why, 404 or 403, without revealing others' private characters.
      const character = updated ?? (await ownCharacter(db, user.id, id));
      return toCharacterView(character, user.id);
    },
  );
};

async function galleryPage(
  db: Executor,
  viewerId: string,
  page: Omit<z.infer<typeof listCharactersQuery>, 'public'>,
): Promise<CharacterView[]> {
  const rows = await listGallery(db, {
    viewerId,
    sort: page.sort,
    limit: page.limit,
    offset: page.offset,
    ...(page.q === undefined ? {} : { q: page.q }),
  });
  const counts = await documentCountsByCharacter(
    db,
    rows.map((row) => row.character.id),
  );
  return rows.map((row) => ({
    ...toCharacterView(row.character, viewerId, counts.get(row.character.id)),
    conversations: row.conversations,
  }));
}

import { z } from 'zod';
import type { DocumentCounts } from '../../db/queries/knowledge.js';
import type { Character } from '../../db/schema.js';

const name = z.string().trim().min(1).max(100);
const instructions = z.string().trim().min(1).max(20_000);
const greeting = z.string().trim().min(1).max(2_000).nullable();
const description = z.string().trim().min(1).max(300).nullable();
const voiceId = z.string().trim().min(1).max(200).nullable();
const language = z.string().trim().min(2).max(35).meta({ example: 'en' });

/** `POST /api/characters`. */
export const createCharacterBody = z
  .object({
    name,
    instructions: instructions.describe('The persona: how the character speaks and behaves'),
    greeting: greeting.optional().describe('Said once when a new conversation starts'),
    description: description.optional().describe('One or two lines shown in the gallery'),
    voice_id: voiceId.optional().describe('Cartesia voice id; the server default when absent'),
    language: language.optional(),
    is_public: z.boolean().optional().describe('Whether other users may talk to it'),
  })
  .strict();

/** `PATCH /api/characters/:id`: any subset of the creatable fields, at least one. */
export const updateCharacterBody = createCharacterBody
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'Give at least one field to change');

export const characterParams = z.object({ id: z.uuid() });

export const characterView = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    name: z.string(),
    /** Only the owner sees the persona prompt. */
    instructions: z.string().optional(),
    greeting: z.string().nullable(),
    description: z.string().nullable(),
    voice_id: z.string().nullable(),
    language: z.string(),
    is_public: z.boolean(),
    is_own: z.boolean(),
    knowledge: z
      .object({ pending: z.number().int(), ready: z.number().int(), failed: z.number().int() })
      .describe('How many of its knowledge documents are waiting, usable or failed'),
    /** In the gallery: how many people have a conversation with it. */
    conversations: z.number().int().optional(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Character' });

/**
 * `GET /api/characters`. Without `public=true`: every character the caller may talk to (their
 * own and public ones), unpaged. With it: the gallery, other people's public characters only,
 * one page of `limit` from `offset`; fewer than `limit` items means the last page.
 */
export const listCharactersQuery = z.object({
  public: z.enum(['true', 'false']).optional(),
  q: z.string().trim().max(100).optional(),
  sort: z.enum(['popular', 'new']).default('popular'),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});

export type CharacterView = z.infer<typeof characterView>;

const NO_DOCUMENTS: DocumentCounts = { pending: 0, ready: 0, failed: 0 };

export function toCharacterView(
  character: Character,
  viewerId: string,
  knowledge: DocumentCounts = NO_DOCUMENTS,
): CharacterView {
  const own = character.ownerId === viewerId;
  const view: CharacterView = {
    id: character.id,
    owner_id: character.ownerId,
    name: character.name,
    greeting: character.greeting,
    description: character.description,
    voice_id: character.voiceId,
    language: character.language,
    is_public: character.isPublic,
    is_own: own,
    knowledge: { ...knowledge },
    created_at: character.createdAt.toISOString(),
    updated_at: character.updatedAt.toISOString(),
  };
  if (own) view.instructions = character.instructions;
  return view;
}

type CharacterFields = z.infer<typeof createCharacterBody>;

/** The body's snake_case fields as the columns they set; absent fields stay absent. */
export function characterColumns(body: Partial<CharacterFields>) {
  const columns: Partial<
    Pick<
      Character,
      'name' | 'instructions' | 'greeting' | 'description' | 'voiceId' | 'language' | 'isPublic'
    >
  > = {};
  if (body.name !== undefined) columns.name = body.name;
  if (body.instructions !== undefined) columns.instructions = body.instructions;
  if (body.greeting !== undefined) columns.greeting = body.greeting;
  if (body.description !== undefined) columns.description = body.description;
  if (body.voice_id !== undefined) columns.voiceId = body.voice_id;
  if (body.language !== undefined) columns.language = body.language;
  if (body.is_public !== undefined) columns.isPublic = body.is_public;
  return columns;
}

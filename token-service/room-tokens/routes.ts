import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chosenRoom } from '../../core/access/room-access.js';
import { AppError, isAppError } from '../../core/errors.js';
import { chatRoomIdOf } from '../../core/livekit-dispatch.js';
import type { Executor } from '../../db/client.js';
import type { AppConfig } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { perUserLimit } from '../http/rate-limit.js';
import { requestedCharacter, roomConfigBody } from './requested-character.js';
import { createRoomLookup, type RoomLookup, type RoomRef } from './room-lookup.js';
import { createRoomToken, liveKitCredentials } from './room-token.js';

/**
 * LiveKit's standard token endpoint request (what `TokenSourceEndpoint` sends), plus Parley's
 * `character_id`. The server decides identity, grants and agent dispatch: of a client's
 * `room_config`, only the character named in an agent's metadata is read.
 */
export const roomTokenBody = z.object({
  room_name: z.string().max(100).optional().describe('parley-chat-<chat_room_id> of your room'),
  character_id: z.uuid().optional().describe('Talk to this character (in your room with it)'),
  participant_identity: z
    .string()
    .optional()
    .describe('Ignored unless it differs from your user id, which is an error'),
  participant_name: z.string().trim().min(1).max(100).optional(),
  participant_metadata: z.string().max(4_096).optional(),
  participant_attributes: z
    .record(z.string().max(100), z.string().max(1_000))
    .refine((attributes) => Object.keys(attributes).length <= 20, 'at most 20 attributes')
    .optional(),
  room_config: roomConfigBody.optional(),
});

export const roomTokenResponse = z
  .object({
    server_url: z.string(),
    participant_token: z.string(),
    room_name: z.string(),
    chat_room_id: z.number().int(),
  })
  .meta({ id: 'RoomToken' });

type RoomTokenBody = z.infer<typeof roomTokenBody>;

export interface RoomTokenRoutesOptions {
  db: Executor;
  config: AppConfig;
  /** Shared with `DELETE /api/chat-rooms/:id`, which must clear it; one of its own if absent. */
  lookup?: RoomLookup | undefined;
}

/** `POST /api/token`: a LiveKit token for the caller's room with a character. */
export const roomTokenRoutes: FastifyPluginAsyncZod<RoomTokenRoutesOptions> = async (
  app,
  { db, config, lookup = createRoomLookup(db) },
) => {
  app.post(
    '/api/token',
    {
      config: perUserLimit(config.http.rateLimitPerMinute),
      schema: {
        tags: ['rooms'],
        summary: 'A LiveKit token for your room with a character, with its agent dispatched',
        security: BEARER_SECURITY,
        body: roomTokenBody,
        response: { 201: roomTokenResponse, ...errorResponses, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const livekit = liveKitCredentials(config.livekit);
      const { body } = request;
      if (body.participant_identity !== undefined && body.participant_identity !== user.id) {
        throw new AppError('REQUEST.INVALID', 'participant_identity must be your user id', {
          details: [{ in: 'body', field: 'participant_identity', message: 'is not your user id' }],
        });
      }
      const characterId = requestedCharacter(body);
      const room = await roomFor(db, lookup, user.id, { ...body, character_id: characterId });
      const participantName = body.participant_name ?? (await lookup.displayName(user));
      const token = createRoomToken(livekit, {
        userId: user.id,
        chatRoom: room,
        participantName,
        participantMetadata: body.participant_metadata,
        participantAttributes: body.participant_attributes,
      });
      return reply.status(201).send({
        server_url: token.serverUrl,
        participant_token: token.participantToken,
        room_name: token.roomName,
        chat_room_id: room.id,
      });
    },
  );
};

/**
 * A `room_name` must name one of the caller's rooms. Any other name, including one Parley never
 * made or a room that does not exist, is refused alike: 403, never a token. A `character_id`
 * alone (what the web page sends) is answered from the lookup's memory.
 */
async function roomFor(
  db: Executor,
  lookup: RoomLookup,
  userId: string,
  body: RoomTokenBody,
): Promise<RoomRef> {
  if (body.room_name === undefined) {
    if (body.character_id !== undefined) return lookup.roomWithCharacter(userId, body.character_id);
    return chosenRoom(db, userId, {}); // names neither: chosenRoom's REQUEST.INVALID
  }
  const chatRoomId = chatRoomIdOf(body.room_name);
  if (chatRoomId === undefined) throw notYourRoom();
  try {
    return await chosenRoom(db, userId, { chatRoomId, characterId: body.character_id });
  } catch (error) {
    if (isAppError(error) && error.code === 'ROOM.NOT_FOUND') throw notYourRoom();
    throw error;
  }
}

function notYourRoom(): AppError {
  return new AppError('ROOM.FORBIDDEN', 'This room is not yours');
}

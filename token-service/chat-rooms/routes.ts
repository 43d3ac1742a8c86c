import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { memberRoom, roomWithCharacter } from '../../core/access/room-access.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { deleteOwnChatRoom, listChatRoomsOfUser } from '../../db/queries/chat-rooms.js';
import { listMessages } from '../../db/queries/messages.js';
import type { ConversationPort, MemoryPort } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import type { RoomLookup } from '../room-tokens/room-lookup.js';
import {
  chatRoomId,
  chatRoomView,
  messagePageQuery,
  messagePageView,
  toChatRoomView,
  toMessageView,
} from './schemas.js';

const tags = ['chat rooms'];
const roomParams = z.object({ id: chatRoomId });

/** Everything in this process that keeps a room in memory, cleared when the room is deleted. */
export interface RoomForgetters {
  lookup: Pick<RoomLookup, 'forgetRoom'>;
  conversation: Pick<ConversationPort, 'forgetRoom'>;
  memory?: Pick<MemoryPort, 'forget'> | undefined;
}

/** The caller's chat rooms and their message history. */
export const chatRoomRoutes: FastifyPluginAsyncZod<{
  db: Executor;
  forget: RoomForgetters;
}> = async (app, { db, forget }) => {
  app.get(
    '/api/chat-rooms',
    {
      schema: {
        tags,
        summary: 'Your chat rooms, most recently active first',
        security: BEARER_SECURITY,
        response: { 200: z.array(chatRoomView), ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return (await listChatRoomsOfUser(db, user.id)).map(toChatRoomView);
    },
  );

  app.post(
    '/api/chat-rooms',
    {
      schema: {
        tags,
        summary: 'Your room with a character, created on first use',
        security: BEARER_SECURITY,
        body: z.object({ character_id: z.uuid() }).strict(),
        response: { 200: chatRoomView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return toChatRoomView(await roomWithCharacter(db, user.id, request.body.character_id));
    },
  );

  app.get(
    '/api/chat-rooms/:id',
    {
      schema: {
        tags,
        summary: 'One of your chat rooms',
        security: BEARER_SECURITY,
        params: roomParams,
        response: { 200: chatRoomView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return toChatRoomView(await memberRoom(db, user.id, request.params.id));
    },
  );

  app.get(
    '/api/chat-rooms/:id/messages',
    {
      schema: {
        tags,
        summary: 'A page of a room’s messages, newest page first, oldest message first',
        security: BEARER_SECURITY,
        params: roomParams,
        querystring: messagePageQuery,
        response: { 200: messagePageView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const room = await memberRoom(db, user.id, request.params.id);
      const page = await listMessages(db, {
        chatRoomId: room.id,
        limit: request.query.limit,
        beforeSeq: request.query.before,
      });
      return {
        messages: page.messages.map(toMessageView),
        next_before: page.nextBeforeSeq ?? null,
      };
    },
  );

  app.delete(
    '/api/chat-rooms/:id',
    {
      schema: {
        tags,
        summary: 'Delete one of your rooms with its messages and memories',
        description:
          'Only the room’s own user may delete it. Its messages and memories are deleted with ' +
          'it; talking to the character again starts a new, empty room. A room that is not ' +
          'yours answers 404, like one that does not exist.',
        security: BEARER_SECURITY,
        params: roomParams,
        response: { 204: z.undefined(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const room = await deleteOwnChatRoom(db, { chatRoomId: request.params.id, userId: user.id });
      if (room === undefined) throw new AppError('ROOM.NOT_FOUND', 'No such chat room');
      forget.lookup.forgetRoom(room.userId, room.characterId);
      forget.conversation.forgetRoom(room.id);
      forget.memory?.forget(room.id);
      return reply.status(204).send();
    },
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { memberRoom } from '../../core/access/room-access.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  deleteMemory,
  listMemories,
  type MemoryItem,
  setRoomMemory,
  updateMemory,
} from '../../db/queries/memories.js';
import type { ChatRoom } from '../../db/schema.js';
import type { MemoryPort } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { chatRoomId, chatRoomView, toChatRoomView } from './schemas.js';

const tags = ['memories'];
/** Longest memory a user may write: a note, not a document. */
const MAX_MEMORY_CHARS = 500;

const memoryView = z
  .object({
    id: z.number().int(),
    text: z.string(),
    /** The messages it was distilled from (they may since have been deleted). */
    source_message_ids: z.array(z.number().int()),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Memory' });

const roomParams = z.object({ id: chatRoomId });
const memoryParams = z.object({
  id: chatRoomId,
  memoryId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

function toMemoryView(memory: MemoryItem): z.infer<typeof memoryView> {
  return {
    id: memory.id,
    text: memory.text,
    source_message_ids: memory.sourceMessageIds,
    created_at: memory.createdAt.toISOString(),
    updated_at: memory.updatedAt.toISOString(),
  };
}

/** The room, if its memories are the caller's: the room's own user, not any member. */
async function ownRoom(db: Executor, userId: string, id: number): Promise<ChatRoom> {
  const room = await memberRoom(db, userId, id);
  if (room.userId !== userId) throw new AppError('ROOM.FORBIDDEN', 'These memories are not yours');
  return room;
}

function noSuchMemory(): AppError {
  return new AppError('MEMORY.NOT_FOUND', 'No such memory in this chat room');
}

/**
 * What a character remembers of the caller in one room: read it, correct it, delete it, and
 * turn memory off for the room. Deleting the room (or the character) deletes its memories.
 */
export const memoryRoutes: FastifyPluginAsyncZod<{
  db: Executor;
  memory?: Pick<MemoryPort, 'embed'> | undefined;
}> = async (app, { db, memory }) => {
  app.get(
    '/api/chat-rooms/:id/memories',
    {
      schema: {
        tags,
        summary: 'What the character remembers about you from this room, newest first',
        security: BEARER_SECURITY,
        params: roomParams,
        response: { 200: z.array(memoryView), ...errorResponses },
      },
    },
    async (request) => {
      const room = await ownRoom(db, requireUser(request).id, request.params.id);
      return (await listMemories(db, room.id)).map(toMemoryView);
    },
  );

  app.patch(
    '/api/chat-rooms/:id/memories/:memoryId',
    {
      schema: {
        tags,
        summary: 'Correct a memory',
        security: BEARER_SECURITY,
        params: memoryParams,
        body: z.object({ text: z.string().trim().min(1).max(MAX_MEMORY_CHARS) }).strict(),
        response: { 200: memoryView, ...errorResponses },
      },
    },
    async (request) => {
      const room = await ownRoom(db, requireUser(request).id, request.params.id);
      const { text } = request.body;
      // Without an embedding the corrected memory is still recalled, by recency only.
      const [embedding] = (await memory?.embed([text]).catch(() => undefined)) ?? [];
      const updated = await updateMemory(db, {
        chatRoomId: room.id,
        id: request.params.memoryId,
        text,
        embedding,
      });
      if (updated === undefined) throw noSuchMemory();
      return toMemoryView(updated);
    },
  );

  app.delete(
    '/api/chat-rooms/:id/memories/:memoryId',
    {
      schema: {
        tags,
        summary: 'Forget a memory',
        security: BEARER_SECURITY,
        params: memoryParams,
        response: { 204: z.undefined(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const room = await ownRoom(db, requireUser(request).id, request.params.id);
      if (!(await deleteMemory(db, { chatRoomId: room.id, id: request.params.memoryId }))) {
        throw noSuchMemory();
      }
      return reply.status(204).send();
    },
  );

  app.patch(
    '/api/chat-rooms/:id',
    {
      schema: {
        tags: ['chat rooms', ...tags],
        summary: 'Change a room’s settings: memory on or off',
        description:
          'With memory off, nothing said in the room is remembered (not even after turning ' +
          'it back on) and stored memories are not used; they stay until deleted.',
        security: BEARER_SECURITY,
        params: roomParams,
        body: z.object({ memory_enabled: z.boolean() }).strict(),
        response: { 200: chatRoomView, ...errorResponses },
      },
    },
    async (request) => {
      const room = await ownRoom(db, requireUser(request).id, request.params.id);
      const enabled = request.body.memory_enabled;
      const updated = await setRoomMemory(db, { chatRoomId: room.id, enabled });
      if (updated === undefined) throw new AppError('ROOM.NOT_FOUND', 'No such chat room');
      return toChatRoomView(updated);
    },
  );
};

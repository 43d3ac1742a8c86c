import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chosenRoom } from '../../core/access/room-access.js';
import type { Executor } from '../../db/client.js';
import type { AppConfig, ConversationPort, MemoryPort } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import { PG_INT_MAX } from '../chat-rooms/schemas.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { perUserLimit } from '../http/rate-limit.js';
import { MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS } from './limits.js';
import type { TurnBudget } from './turn-budget.js';

/** The original design's `ChatRequest`, plus an optional idempotency key. */
export const chatBody = z
  .object({
    message: z.string().trim().min(1).max(MAX_MESSAGE_CHARS),
    chat_room_id: z
      .number()
      .int()
      .positive()
      .max(PG_INT_MAX)
      .optional()
      .describe('One of your rooms'),
    character_id: z.uuid().optional().describe('Or a character: your room with it is used'),
    client_id: z
      .string()
      .min(1)
      .max(MAX_CLIENT_ID_CHARS)
      .optional()
      .describe('Send the same id again after a failure and nothing is stored twice'),
  })
  .strict();

/** The original design's `ChatResponse`. */
export const chatResponse = z
  .object({
    chat_room_id: z.number().int(),
    user_message_id: z.number().int(),
    ai_message_id: z.number().int(),
    ai_response: z.string(),
  })
  .meta({ id: 'ChatResponse' });

export interface ChatRoutesOptions {
  db: Executor;
  config: AppConfig;
  conversation: ConversationPort;
  /** Each user's turns a minute, shared with every other way in. */
  turns: Pick<TurnBudget, 'take'>;
  /** Told of each turn: the chat is distilled into memories once it goes quiet. */
  memory?: Pick<MemoryPort, 'active'> | undefined;
}

/** `POST /api/chat`: one text turn, answered when the reply is stored. */
export const chatRoutes: FastifyPluginAsyncZod<ChatRoutesOptions> = async (
  app,
  { db, config, conversation, turns, memory },
) => {
  app.post(
    '/api/chat',
    {
      config: perUserLimit(config.http.rateLimitPerMinute),
      schema: {
        tags: ['chat'],
        summary: 'Say something to a character and get its reply',
        security: BEARER_SECURITY,
        body: chatBody,
        response: { 200: chatResponse, ...errorResponses, 502: errorResponseSchema },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { body } = request;
      const chatRoom = await chosenRoom(db, user.id, {
        chatRoomId: body.chat_room_id,
        characterId: body.character_id,
      });
      turns.take(user.id);
      const { userMessage, aiMessage } = await conversation.runTextTurn({
        chatRoom,
        text: body.message,
        ...(body.client_id === undefined ? {} : { clientId: body.client_id }),
      });
      memory?.active(chatRoom.id);
      return {
        chat_room_id: chatRoom.id,
        user_message_id: userMessage.id,
        ai_message_id: aiMessage.id,
        ai_response: aiMessage.text,
      };
    },
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { bearerFromProtocolHeader } from '../auth/fastify-auth.js';
import { roomQuery } from './frames.js';
import { type ChatSocketDeps, serveChatSocket } from './session.js';

/**
 * `/ws/chat`: text chat with a character over a WebSocket; frames in `frames.ts`. Not behind
 * the bearer hook: a browser may authenticate with its first frame instead of a sub-protocol.
 */
export const chatSocketRoutes: FastifyPluginAsyncZod<ChatSocketDeps> = async (app, deps) => {
  app.get(
    '/ws/chat',
    { websocket: true, schema: { hide: true, querystring: roomQuery } },
    (socket, request) => {
      const room = {
        chatRoomId: request.query.chat_room_id,
        characterId: request.query.character_id,
      };
      let token: string | undefined;
      try {
        token = bearerFromProtocolHeader(request.headers['sec-websocket-protocol']);
      } catch {
        // A malformed bearer entry: treat it as a token that fails verification.
        token = '';
      }
      serveChatSocket(deps, socket, { token, room, log: request.log });
    },
  );
};

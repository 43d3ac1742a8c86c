import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessWatch } from '../../core/access/access-watch.js';
import { chosenRoom } from '../../core/access/room-access.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import type { AppConfig } from '../app-deps.js';
import { requireUser } from '../auth/fastify-auth.js';
import type { TurnBudget } from '../chat/turn-budget.js';
import { chatRoomId } from '../chat-rooms/schemas.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { perUserLimit } from '../http/rate-limit.js';
import type { DirectCallPort } from './port.js';

const SDP_TYPE = 'application/sdp';
/** A browser offer with audio, video and a data channel is 3-8 kB; this leaves room. */
const MAX_OFFER_BYTES = 64 * 1024;
const tags = ['webrtc'];
/**
 * A call uses audio, an optional camera and the data channel: three media sections. Each one
 * costs the server a peer transceiver and ICE sockets, so more are refused before any is made.
 */
const MAX_MEDIA_SECTIONS = 3;

const offerQuery = z
  .object({
    chat_room_id: chatRoomId.optional().describe('One of your rooms'),
    character_id: z.uuid().optional().describe('Your room with this character, made on first use'),
  })
  .strict()
  .refine(
    (query) => (query.chat_room_id === undefined) !== (query.character_id === undefined),
    'give exactly one of chat_room_id and character_id',
  );

export interface RtcRoutesOptions {
  db: Executor;
  config: AppConfig;
  calls: DirectCallPort;
  /** Ends a call whose user may no longer talk in its room. */
  access: Pick<AccessWatch, 'watch'>;
  /** Each user's turns a minute: every user turn in a call takes one. */
  turns: Pick<TurnBudget, 'tryTake'>;
}

/**
 * Direct WebRTC calls, WHIP-style: `POST /api/rtc/offer` takes the browser's complete SDP
 * offer (`Content-Type: application/sdp`, no trickle ICE) and answers `201` with the complete
 * SDP answer, `Location: /api/rtc/sessions/<id>` and `Parley-Chat-Room-Id`; `DELETE` on that
 * location hangs up. Captions and state arrive on the data channel (`agent/transports/webrtc/messages.ts`).
 */
export const rtcRoutes: FastifyPluginAsyncZod<RtcRoutesOptions> = async (app, options) => {
  const { db, config, calls, access, turns } = options;
  app.addContentTypeParser(
    SDP_TYPE,
    { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES },
    (_r, body, done) => done(null, body),
  );

  app.post(
    '/api/rtc/offer',
    {
      config: perUserLimit(config.http.rateLimitPerMinute),
      onRequest: requireSdp,
      schema: {
        tags,
        summary: 'Talk to a character by voice over WebRTC: your SDP offer in, our answer out',
        description:
          'Send the complete offer (ICE gathering finished) as application/sdp. The answer is ' +
          'complete too. Open a data channel labelled "parley" for captions and state. The ' +
          'call ends when the peer closes, goes quiet for a few seconds, or on DELETE Location.',
        security: BEARER_SECURITY,
        consumes: [SDP_TYPE],
        querystring: offerQuery,
        body: z.string().min(1).describe('SDP offer'),
        response: {
          201: z.string().describe('SDP answer'),
          ...errorResponses,
          415: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      checkMediaSections(request.body);
      const room = await chosenRoom(db, user.id, {
        chatRoomId: request.query.chat_room_id,
        characterId: request.query.character_id,
      });
      const call = await calls.start({
        userId: user.id,
        chatRoomId: room.id,
        offerSdp: request.body,
        allowTurn: () => turns.tryTake(user.id),
      });
      const unwatch = access.watch({ chatRoomId: room.id, userId: user.id }, (reason) => {
        request.log.info({ code: reason.code, rtcSessionId: call.id }, 'call ended: no access');
        void calls.stop(call.id, reason);
      });
      void call.ended.then(unwatch, unwatch);
      return reply
        .status(201)
        .header('content-type', SDP_TYPE)
        .header('location', `/api/rtc/sessions/${call.id}`)
        .header('parley-chat-room-id', String(call.chatRoomId))
        .send(call.answerSdp);
    },
  );

  app.delete(
    '/api/rtc/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Hang up one of your direct calls; its messages are stored when this returns',
        security: BEARER_SECURITY,
        params: z.object({ id: z.uuid() }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await calls.end(request.params.id, user.id);
      return reply.status(204).send(null);
    },
  );
};

/** Refuses an offer with more media sections (`m=` lines) than a call uses. */
function checkMediaSections(sdp: string): void {
  const sections = sdp.match(/^m=/gm)?.length ?? 0;
  if (sections > MAX_MEDIA_SECTIONS) {
    throw new AppError(
      'REQUEST.INVALID',
      `An offer may have at most ${MAX_MEDIA_SECTIONS} media sections (audio, video, data)`,
      { details: [{ in: 'body', field: '', message: `${sections} m= lines` }] },
    );
  }
}

/** Refuses anything but an SDP body before it is parsed, with a message that says so. */
async function requireSdp(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== SDP_TYPE) {
    throw new AppError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'Send the SDP offer as application/sdp');
  }
}

import type Cartesia from '@cartesia/cartesia-js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { requireUser } from '../auth/fastify-auth.js';
import { errorResponseSchema, errorResponses } from '../http/errors.js';
import { BEARER_SECURITY } from '../http/openapi.js';
import { perUserLimit } from '../http/rate-limit.js';
import { acceptRawBody, uploadErrorResponses } from '../http/raw-body.js';
import {
  CLIP_LIMITS,
  cloneVoice,
  deleteVoice,
  listClonedVoices,
  ownClonedVoice,
} from './clones.js';
import {
  clonedVoiceView,
  cloneQuery,
  previewQuery,
  previewUrl,
  toClonedVoiceView,
  voiceListView,
  voiceParams,
  voicesQuery,
} from './schemas.js';
import { primaryLanguage, type VoiceCatalog, voiceMatches } from './voice-catalog.js';

const tags = ['voices'];
const WAV = 'audio/wav';
/** Previews never change for a voice and language: the browser may keep them a day. */
const PREVIEW_CACHE_CONTROL = 'private, max-age=86400, immutable';
const FLITE_NOTICE =
  'Voices need Cartesia: without CARTESIA_API_KEY every character speaks with one built-in ' +
  'English voice (flite), and voices cannot be cloned.';

export interface VoiceRoutesOptions {
  db: Executor;
  catalog: VoiceCatalog;
  client: Cartesia | undefined;
  rateLimitPerMinute: number;
}

/** Voices: the library with previews, and each user's own cloned voices. */
export const voiceRoutes: FastifyPluginAsyncZod<VoiceRoutesOptions> = async (app, options) => {
  listRoute(app, options);
  previewRoute(app, options);
  cloneRoutes(app, options);
  createCloneRoute(app, options);
};

type VoiceApp = Parameters<FastifyPluginAsyncZod>[0];

function listRoute(app: VoiceApp, { db, catalog }: VoiceRoutesOptions): void {
  app.get(
    '/api/voices',
    {
      schema: {
        tags,
        summary: 'Voices a character of yours can speak with: the library and your clones',
        security: BEARER_SECURITY,
        querystring: voicesQuery,
        response: { 200: voiceListView, ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const library = await catalog.list(request.query);
      const clones = (await listClonedVoices(db, user.id))
        .map((voice) => ({
          id: voice.providerVoiceId,
          name: voice.name,
          description: 'Your cloned voice',
          language: primaryLanguage(voice.language),
          gender: null,
          source: 'cloned' as const,
        }))
        .filter((voice) => catalog.provider === 'cartesia' && voiceMatches(voice, request.query));
      const voices = [...clones, ...library].map((v) => ({ ...v, preview_url: previewUrl(v.id) }));
      return {
        provider: catalog.provider,
        notice: catalog.provider === 'flite' ? FLITE_NOTICE : null,
        voices,
      };
    },
  );
}

function previewRoute(app: VoiceApp, { db, catalog }: VoiceRoutesOptions): void {
  app.get(
    '/api/voices/:id/preview',
    {
      schema: {
        tags,
        summary: 'Hear a voice: WAV audio, made once and cached',
        security: BEARER_SECURITY,
        params: voiceParams,
        querystring: previewQuery,
        produces: [WAV],
        response: { 200: z.any().describe('audio/wav'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const { id } = request.params;
      const voice = (await catalog.libraryVoice(id)) ?? (await ownClonedVoice(db, user.id, id));
      const audio = await catalog.preview(id, request.query.language ?? voice.language);
      return reply
        .header('content-type', WAV)
        .header('cache-control', PREVIEW_CACHE_CONTROL)
        .send(audio);
    },
  );
}

const cloneSchema = {
  tags,
  summary: 'Clone a voice from your clip (audio/wav, mono 16-bit, 5-30 s)',
  description:
    `Send the clip as the body with content-type audio/wav (at most ${CLIP_LIMITS.maxBytes} ` +
    'bytes). The voice is created at Cartesia and only you may give it to your characters.',
  security: BEARER_SECURITY,
  consumes: [WAV],
  querystring: cloneQuery,
  response: {
    201: clonedVoiceView,
    ...uploadErrorResponses,
    409: errorResponseSchema,
  },
};

/** The user's clones: list and delete. */
function cloneRoutes(app: VoiceApp, options: VoiceRoutesOptions): void {
  const { db } = options;
  const deps = { db, client: options.client };
  app.get(
    '/api/voices/clones',
    {
      schema: {
        tags,
        summary: 'Your cloned voices',
        security: BEARER_SECURITY,
        response: { 200: z.array(clonedVoiceView), ...errorResponses },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return (await listClonedVoices(db, user.id)).map(toClonedVoiceView);
    },
  );

  app.delete(
    '/api/voices/clones/:id',
    {
      schema: {
        tags,
        summary: 'Delete your cloned voice, here and at Cartesia',
        description: 'Your characters that used it go back to the default voice.',
        security: BEARER_SECURITY,
        params: voiceParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await deleteVoice(deps, { ownerId: user.id, providerVoiceId: request.params.id });
      return reply.status(204).send(null);
    },
  );
}

/** A new clone from a WAV clip in the body, at most a tenth of the usual request rate. */
function createCloneRoute(app: VoiceApp, options: VoiceRoutesOptions): void {
  const deps = { db: options.db, client: options.client };
  acceptRawBody(app, WAV, CLIP_LIMITS.maxBytes);

  app.post(
    '/api/voices/clones',
    {
      config: perUserLimit(Math.max(1, Math.floor(options.rateLimitPerMinute / 10))),
      onRequest: requireWav,
      schema: cloneSchema,
    },
    async (request, reply) => {
      const user = requireUser(request);
      const clip = request.body;
      if (!Buffer.isBuffer(clip))
        throw new AppError('VOICE.CLIP_FORMAT', 'Send the clip as audio/wav');
      const { name, language } = request.query;
      const voice = await cloneVoice(deps, { ownerId: user.id, name, language, clip });
      return reply.status(201).send(toClonedVoiceView(voice));
    },
  );
}

async function requireWav(request: { headers: Record<string, unknown> }): Promise<void> {
  const header = request.headers['content-type'];
  const type = typeof header === 'string' ? header.split(';')[0]?.trim().toLowerCase() : undefined;
  if (type !== WAV) {
    throw new AppError('VOICE.CLIP_FORMAT', 'Send the clip as audio/wav (mono 16-bit PCM)');
  }
}

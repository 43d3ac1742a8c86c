import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ProviderStatus } from '../../agent/providers/status.js';
import type { AppConfig } from '../app-deps.js';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
/** livekit-client's ES module build, served as is: the page has no build step. */
const LIVEKIT_CLIENT_DIR = dirname(createRequire(import.meta.url).resolve('livekit-client'));

export const clientConfigView = z
  .object({
    /** Sign in with this Supabase project when set; otherwise with a dev session. */
    supabase_url: z.string().nullable(),
    supabase_anon_key: z.string().nullable(),
    /** Whether `POST /auth/dev/session` will issue a token. */
    dev_sessions: z.boolean(),
    /** Talk through LiveKit (`POST /api/token`) when set; otherwise over direct WebRTC. */
    livekit_url: z.string().nullable(),
    /** What conversations can use; without an LLM the page says what to set, and how. */
    providers: z.object({
      llm: z.object({
        configured: z.boolean(),
        variable: z.string().meta({ example: 'OPENAI_API_KEY or OPENAI_BASE_URL' }),
        alternative: z.string().meta({ example: 'npm run dev:providers' }),
      }),
      embeddings: z.object({ configured: z.boolean(), variable: z.string() }),
      speech_to_text: z.enum(['openai', 'pocketsphinx']),
      voices: z.enum(['cartesia', 'flite']),
    }),
  })
  .meta({ id: 'ClientConfig' });

export interface WebRoutesOptions {
  config: AppConfig;
  devSessionsEnabled: boolean;
  providers: ProviderStatus;
}

/**
 * The web page at `/` (static files from `public/`, plain ES modules), livekit-client at
 * `/vendor/`, and `GET /api/client-config`, which tells the page how to sign in and connect.
 */
export const webRoutes: FastifyPluginAsyncZod<WebRoutesOptions> = async (app, options) => {
  const { auth, livekit } = options.config;
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', wildcard: false });
  await app.register(fastifyStatic, {
    root: LIVEKIT_CLIENT_DIR,
    prefix: '/vendor/livekit-client/',
    wildcard: false,
    decorateReply: false,
    allowedPath: (path) => path.endsWith('.mjs'),
  });

  app.get(
    '/api/client-config',
    {
      schema: {
        tags: ['web'],
        summary: 'How the web page signs in and connects (public, no token)',
        response: { 200: clientConfigView },
      },
    },
    async () => ({
      supabase_url: auth.supabaseUrl ?? null,
      supabase_anon_key: auth.supabaseAnonKey ?? null,
      dev_sessions: options.devSessionsEnabled,
      livekit_url: livekit.url ?? null,
      providers: providersView(options.providers),
    }),
  );
};

function providersView(status: ProviderStatus) {
  return {
    llm: { ...status.llm },
    embeddings: { ...status.embeddings },
    speech_to_text: status.speechToText,
    voices: status.voices,
  };
}

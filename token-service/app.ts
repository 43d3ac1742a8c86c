/**
 * The HTTP and WebSocket front door: `buildApp(deps)` wires plugins, routes and the one error
 * handler into a Fastify instance that is ready to `listen` (or to `inject` in tests).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { createCartesiaClient } from '../agent/providers/cartesia-client.js';
import { AccessWatch } from '../core/access/access-watch.js';
import type { AppDeps, WebSocketTuning } from './app-deps.js';
import { authPlugin, selectWebSocketProtocol } from './auth/fastify-auth.js';
import { BackgroundTasks } from './background-tasks.js';
import { type CharacterChanged, characterRoutes } from './characters/routes.js';
import { chatRoutes } from './chat/routes.js';
import { TurnBudget } from './chat/turn-budget.js';
import { memoryRoutes } from './chat-rooms/memory-routes.js';
import { chatRoomRoutes } from './chat-rooms/routes.js';
import { devAuthRoutes } from './dev-auth/routes.js';
import { healthRoutes } from './health/routes.js';
import { handleClientError, requestTimeouts } from './http/client-errors.js';
import { handleError, handleNotFound } from './http/errors.js';
import { rejectNul } from './http/nul-guard.js';
import { registerOpenApi } from './http/openapi.js';
import { registerRateLimit } from './http/rate-limit.js';
import { requestLoggerFactory } from './http/request-log.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { knowledgeFileRoutes } from './knowledge/file-routes.js';
import { knowledgeRoutes } from './knowledge/routes.js';
import { createRoomLookup, type RoomLookup } from './room-tokens/room-lookup.js';
import { roomTokenRoutes } from './room-tokens/routes.js';
import { rtcRoutes } from './rtc/routes.js';
import { createProfileEnsurer } from './users/profile.js';
import { voiceRoutes } from './voices/routes.js';
import { VoiceCatalog } from './voices/voice-catalog.js';
import { webRoutes } from './web/routes.js';
import { MAX_FRAME_BYTES } from './ws-chat/frames.js';
import { chatSocketRoutes } from './ws-chat/routes.js';

export type App = FastifyInstance;

const DEFAULT_WS_TUNING: WebSocketTuning = { pingIntervalMs: 30_000, authTimeoutMs: 10_000 };
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the app; does not listen. Closing it waits for background work (ingestion, turns). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = createServer(deps);
  const background = new BackgroundTasks();
  app.addHook('onClose', () => background.drain());
  await registerPlugins(app, deps.config);
  const rooms = createRoomLookup(deps.database.db);
  const shared: Shared = {
    db: deps.database.db,
    background,
    access: new AccessWatch({ db: deps.database.db, logger: deps.logger }),
    turns: new TurnBudget({ perMinute: deps.config.http.rateLimitPerMinute }),
    ensureProfile: createProfileEnsurer(deps.database.db),
    rooms,
    characterChanged: (characterId) => {
      rooms.forgetCharacter(characterId);
      deps.conversation.forgetCharacter(characterId);
    },
  };
  app.addHook('onClose', async () => shared.access.close());
  await registerOpenRoutes(app, deps, shared);
  await app.register((api) => registerApiRoutes(api, deps, shared));
  return app as unknown as App;
}

type Server = ReturnType<typeof createServer>;

/** What several route groups share: one background queue, access watch and turn budget. */
interface Shared {
  db: AppDeps['database']['db'];
  background: BackgroundTasks;
  access: AccessWatch;
  turns: TurnBudget;
  ensureProfile: ReturnType<typeof createProfileEnsurer>;
  /** The token route's room cache, cleared when a room is deleted. */
  rooms: RoomLookup;
  /** An edit reaches the next token and text turn of this process at once. */
  characterChanged: CharacterChanged;
}

/** Fastify with the request ids, logging, time limits and the one error handler. */
function createServer(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.http.bodyLimitBytes,
    genReqId: requestId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    ...requestTimeouts(deps.config.http.requestTimeoutMs),
    childLoggerFactory: requestLoggerFactory,
    clientErrorHandler: handleClientError,
    // A URL that does not decode (`/%c0%ae`) goes through the one error handler too.
    frameworkErrors: handleError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addHook('preValidation', rejectNul);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  return app;
}

/** CORS, security headers, rate limit, OpenAPI and WebSocket support. */
async function registerPlugins(app: Server, config: AppDeps['config']): Promise<void> {
  await app.register(cors, {
    origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
  });
  await registerSecurityHeaders(app as unknown as FastifyInstance, config);
  await registerRateLimit(app);
  await registerOpenApi(app);
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES, handleProtocols: selectWebSocketProtocol },
    // An oversized frame or a client vanishing mid-frame is the client's doing, not an error
    // of ours: note it and drop the connection (ws has already sent 1009 where it applies).
    errorHandler: (error, socket, request) => {
      request.log.info({ err: error }, 'chat socket dropped');
      socket.terminate();
    },
  });
}

/** Routes outside the bearer-token scope: health, dev sign-in, the page, the chat socket. */
async function registerOpenRoutes(app: Server, deps: AppDeps, shared: Shared): Promise<void> {
  const { db, ensureProfile, background, access, turns } = shared;
  await app.register(healthRoutes, { database: deps.database });
  await app.register(devAuthRoutes, { auth: deps.auth });
  await app.register(webRoutes, {
    config: deps.config,
    devSessionsEnabled: deps.auth.devSessionsEnabled,
    providers: deps.providers,
  });
  await app.register(chatSocketRoutes, {
    db,
    verifier: deps.auth.verifier,
    ensureProfile,
    conversation: deps.conversation,
    background,
    tuning: { ...DEFAULT_WS_TUNING, ...deps.webSocket },
    access,
    turns,
    memory: deps.memory,
  });
}

/** The REST API: every route needs a verified user, whose profile exists before it runs. */
async function registerApiRoutes(api: Server, deps: AppDeps, shared: Shared): Promise<void> {
  const { config } = deps;
  const { db, background, access, turns } = shared;
  await api.register(authPlugin, { verifier: deps.auth.verifier });
  api.addHook('onRequest', async (request) => {
    if (request.user) await shared.ensureProfile(request.user);
  });
  await api.register(characterRoutes, { db, changed: shared.characterChanged });
  const cartesia = createCartesiaClient(config);
  await api.register(voiceRoutes, {
    db,
    client: cartesia,
    catalog: new VoiceCatalog({ client: cartesia, model: config.cartesia.model }),
    rateLimitPerMinute: config.http.rateLimitPerMinute,
  });
  const knowledge = {
    db,
    knowledge: deps.knowledge,
    background,
    limits: config.knowledge,
    embeddingsConfigured: deps.providers.embeddings.configured,
  };
  await api.register(knowledgeRoutes, knowledge);
  await api.register(knowledgeFileRoutes, knowledge);
  const forget = { lookup: shared.rooms, conversation: deps.conversation, memory: deps.memory };
  await api.register(chatRoomRoutes, { db, forget });
  await api.register(memoryRoutes, { db, memory: deps.memory });
  await api.register(roomTokenRoutes, { db, config, lookup: shared.rooms });
  const { conversation, memory } = deps;
  await api.register(chatRoutes, { db, config, conversation, turns, memory });
  if (deps.rtc !== undefined)
    await api.register(rtcRoutes, { db, config, calls: deps.rtc, access, turns });
}

/** A caller's `x-request-id` when it is a sane token, so traces join up; otherwise a new one. */
function requestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * What the HTTP app needs from the rest of Parley, each narrowed to what it uses. The
 * conversation and knowledge use cases live in `agent/`; the app sees them only through
 * these ports, which the real implementations satisfy structurally.
 */

import type {
  RoomConversation,
  TextTurnInput,
  TextTurnResult,
} from '../agent/conversation/conversations.js';
import type { Retriever } from '../agent/conversation/retrieval.js';
import type { ProviderStatus } from '../agent/providers/status.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseHandle } from '../db/client.js';
import type { ChatRoom, KnowledgeDocument } from '../db/schema.js';
import type { LocalIssuer } from './auth/local-issuer.js';
import type { AccessTokenVerifier } from './auth/verifier.js';
import type { DirectCallPort } from './rtc/port.js';

/** The conversation core (`agent/conversation/`): one conversation per room, every way in. */
export interface ConversationPort {
  /** The room's conversation: the text socket greets and feeds it typed messages. */
  open(chatRoom: ChatRoom): Promise<RoomConversation>;
  /** Stores the user message, generates and stores the reply. Runs to the end once started. */
  runTextTurn(input: TextTurnInput): Promise<TextTurnResult>;
  /** The room was deleted: forget whatever of it is kept in memory. */
  forgetRoom(chatRoomId: number): void;
  /** The character was changed: the next turn reads it afresh (its owner expects that). */
  forgetCharacter(characterId: string): void;
}

/** Memory across conversations (`agent/memory/`). */
export interface MemoryPort {
  /** A text turn happened in the room: its conversation is distilled once it goes quiet. */
  active(chatRoomId: number): void;
  /** The room's conversation ended: distil it now. Never rejects. */
  ended(chatRoomId: number): Promise<void>;
  /** The room was deleted: stop waiting to distil it. */
  forget(chatRoomId: number): void;
  /** Embeds corrected memories, so recall finds them by their new words. */
  embed(texts: string[]): Promise<number[][]>;
}

/** The knowledge ingestion use case (`agent/knowledge/ingest.ts`). */
export interface KnowledgePort {
  /** Chunks, embeds and stores a document; marks it `ready` or `failed` itself. */
  ingestDocument(document: KnowledgeDocument): Promise<void>;
  /** The retrieval conversation turns use (`agent/conversation/retrieval.ts`), not a copy. */
  retriever: Pick<Retriever, 'retrieve'>;
}

/** How callers prove who they are. */
export interface AuthDeps {
  verifier: AccessTokenVerifier;
  /** Present in embedded-issuer mode (no Supabase project configured). */
  localIssuer?: LocalIssuer | undefined;
  /** Whether `POST /auth/dev/session` may issue tokens (embedded mode, loopback or opted in). */
  devSessionsEnabled: boolean;
  /** `ALLOW_DEV_SESSIONS`: also for callers that are not this machine (else loopback only). */
  devSessionsFromAnyCaller?: boolean;
}

/** Timings of the WebSocket chat; tests shorten them. */
export interface WebSocketTuning {
  /** How often the server pings an idle client; a client that missed one pong is dropped. */
  pingIntervalMs: number;
  /** How long a connection may stay unauthenticated waiting for its `auth` frame. */
  authTimeoutMs: number;
}

export type AppConfig = Pick<
  Config,
  'http' | 'livekit' | 'auth' | 'knowledge' | 'cartesia' | 'providers'
>;

export interface AppDeps {
  config: AppConfig;
  logger: Logger;
  database: Pick<DatabaseHandle, 'db' | 'ping'>;
  auth: AuthDeps;
  conversation: ConversationPort;
  knowledge: KnowledgePort;
  /** Without it, nothing is distilled from text chats (the memory API still works). */
  memory?: MemoryPort;
  /** Which providers conversations use, shown to the page (`GET /api/client-config`). */
  providers: ProviderStatus;
  /** Direct WebRTC calls (`agent/transports/webrtc`); without it `/api/rtc/*` is not served. */
  rtc?: DirectCallPort;
  webSocket?: Partial<WebSocketTuning>;
}

/**
 * Parley's tables. The domain comes from the original design: profiles (`general_users`),
 * characters (its "virtual users"), chat rooms with their membership (`user_chats`),
 * messages, and the knowledge a character retrieves from.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  vector,
} from 'drizzle-orm/pg-core';

/** Dimensions of `text-embedding-3-small`, the embedding model knowledge is stored with. */
export const EMBEDDING_DIMENSIONS = 1536;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** One row per person; `id` is the Supabase user id (the token's `sub`). */
export const userProfiles = pgTable('user_profiles', {
  id: uuid('id').primaryKey(),
  displayName: text('display_name').notNull(),
  accountName: text('account_name').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** An AI character a person can talk to. Private unless `is_public`. */
export const characters = pgTable(
  'characters',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => userProfiles.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    instructions: text('instructions').notNull(),
    greeting: text('greeting'),
    /** One or two lines shown in the gallery. */
    description: text('description'),
    voiceId: text('voice_id'),
    language: text('language').notNull().default('en'),
    isPublic: boolean('is_public').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('characters_owner_idx').on(t.ownerId),
    index('characters_public_idx').on(t.isPublic),
  ],
);

/** Raw bytes. PGlite hands back a Uint8Array, postgres.js a Buffer: both become a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

/**
 * A character's picture, already resized (WebP). Its own table so that listing characters
 * never reads image bytes; `etag` is a hash of the bytes, for conditional GETs.
 */
export const characterPictures = pgTable('character_pictures', {
  characterId: uuid('character_id')
    .primaryKey()
    .references(() => characters.id, { onDelete: 'cascade' }),
  contentType: text('content_type').notNull(),
  bytes: bytea('bytes').notNull(),
  etag: text('etag').notNull(),
  updatedAt: updatedAt(),
});

/** One conversation between a person and a character; the LiveKit room is named after it. */
export const chatRooms = pgTable(
  'chat_rooms',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: uuid('user_id')
      .notNull()
      .references(() => userProfiles.id, { onDelete: 'cascade' }),
    characterId: uuid('character_id')
      .notNull()
      .references(() => characters.id, { onDelete: 'cascade' }),
    /** The last message sequence number handed out; appends take the next one under a row lock. */
    lastSeq: integer('last_seq').notNull().default(0),
    /** The user's choice: off, nothing is distilled from this room and no memory is recalled. */
    memoryEnabled: boolean('memory_enabled').notNull().default(true),
    /** Messages up to this sequence number have been distilled into memories. */
    memorySeq: integer('memory_seq').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('chat_rooms_user_character_idx').on(t.userId, t.characterId)],
);

/** Who may read and write a room: the original design's `user_chats`. */
export const chatRoomMembers = pgTable(
  'chat_room_members',
  {
    chatRoomId: integer('chat_room_id')
      .notNull()
      .references(() => chatRooms.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => userProfiles.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.chatRoomId, t.userId] }),
    index('chat_room_members_user_idx').on(t.userId),
  ],
);

export const messageSender = pgEnum('message_sender', ['user', 'character']);
export const messageModality = pgEnum('message_modality', ['voice', 'text']);

/** Latency of one conversational turn, in milliseconds, as measured by the session. */
export interface TurnMetrics {
  endOfUtteranceDelayMs?: number;
  transcriptionDelayMs?: number;
  llmTtftMs?: number;
  ttsTtfbMs?: number;
  e2eLatencyMs?: number;
}

/** Every user and character utterance, spoken or typed. `seq` orders a room's messages. */
export const messages = pgTable(
  'messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    chatRoomId: integer('chat_room_id')
      .notNull()
      .references(() => chatRooms.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    sender: messageSender('sender').notNull(),
    text: text('text').notNull(),
    modality: messageModality('modality').notNull(),
    interrupted: boolean('interrupted').notNull().default(false),
    metrics: jsonb('metrics').$type<TurnMetrics>(),
    /** Set by the client so a retried send stores one message. */
    clientId: text('client_id'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('messages_room_seq_idx').on(t.chatRoomId, t.seq),
    uniqueIndex('messages_room_client_id_idx').on(t.chatRoomId, t.clientId),
  ],
);

export const documentStatus = pgEnum('document_status', ['pending', 'ready', 'failed']);

/** A text or Markdown document a character's owner taught it. */
export const knowledgeDocuments = pgTable(
  'knowledge_documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    characterId: uuid('character_id')
      .notNull()
      .references(() => characters.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    contentType: text('content_type').notNull(),
    content: text('content').notNull(),
    status: documentStatus('status').notNull().default('pending'),
    chunkCount: integer('chunk_count').notNull().default(0),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('knowledge_documents_character_idx').on(t.characterId),
    check(
      'knowledge_documents_content_type_check',
      sql`${t.contentType} in ('text/plain', 'text/markdown')`,
    ),
  ],
);

/** A retrievable piece of a document with its embedding. */
export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => knowledgeDocuments.id, { onDelete: 'cascade' }),
    /** Copied from the document so retrieval filters without a join. */
    characterId: uuid('character_id')
      .notNull()
      .references(() => characters.id, { onDelete: 'cascade' }),
    chunkIndex: integer('chunk_index').notNull(),
    content: text('content').notNull(),
    embedding: vector('embedding', { dimensions: EMBEDDING_DIMENSIONS }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('knowledge_chunks_character_idx').on(t.characterId),
    uniqueIndex('knowledge_chunks_document_index_idx').on(t.documentId, t.chunkIndex),
    index('knowledge_chunks_embedding_idx').using('hnsw', t.embedding.op('vector_cosine_ops')),
  ],
);

/**
 * A voice a user cloned at Cartesia from their own clip. Only its owner may give it to a
 * character; deleting it here deletes it at Cartesia too.
 */
export const clonedVoices = pgTable(
  'cloned_voices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => userProfiles.id, { onDelete: 'cascade' }),
    /** Cartesia's voice id, which characters store in `voice_id`. */
    providerVoiceId: text('provider_voice_id').notNull(),
    name: text('name').notNull(),
    language: text('language').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('cloned_voices_provider_voice_idx').on(t.providerVoiceId),
    index('cloned_voices_owner_idx').on(t.ownerId),
  ],
);

/**
 * Something worth remembering about a user, distilled by the LLM from a conversation with a
 * character and recalled in later ones. It belongs to the room (one per user and character),
 * so deleting the room deletes it; `source_message_ids` name the messages it came from.
 */
export const memories = pgTable(
  'memories',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    chatRoomId: integer('chat_room_id')
      .notNull()
      .references(() => chatRooms.id, { onDelete: 'cascade' }),
    /** Copied from the room so recall filters on the user without a join. */
    userId: uuid('user_id')
      .notNull()
      .references(() => userProfiles.id, { onDelete: 'cascade' }),
    text: text('text').notNull(),
    sourceMessageIds: bigint('source_message_ids', { mode: 'number' }).array().notNull(),
    /** Null when the embedding provider failed: the memory is then recalled by recency only. */
    embedding: vector('embedding', { dimensions: EMBEDDING_DIMENSIONS }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('memories_room_idx').on(t.chatRoomId, t.updatedAt)],
);

export type UserProfile = typeof userProfiles.$inferSelect;
export type Character = typeof characters.$inferSelect;
export type ChatRoom = typeof chatRooms.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type KnowledgeDocument = typeof knowledgeDocuments.$inferSelect;
export type KnowledgeChunk = typeof knowledgeChunks.$inferSelect;
export type ClonedVoice = typeof clonedVoices.$inferSelect;
export type Memory = typeof memories.$inferSelect;

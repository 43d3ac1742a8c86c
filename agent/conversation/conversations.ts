import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { getCharacter } from '../../db/queries/characters.js';
import { getChatRoom } from '../../db/queries/chat-rooms.js';
import { recentMessages } from '../../db/queries/messages.js';
import type { ChatRoom, Message } from '../../db/schema.js';
import { CharacterCache } from './character-cache.js';
import {
  CharacterConversation,
  type CharacterConversationParams,
  type ConversationCore,
  type TextTurnResult,
  type TypedMessage,
  type TypedTurnDeps,
} from './character-conversation.js';
import { RoomHistory } from './room-history.js';

export type { TextTurnResult } from './character-conversation.js';

/** What the token service's conversations run on. */
export interface ConversationDeps extends ConversationCore, TypedTurnDeps {}

/** A typed message for a room the caller has already been allowed into. */
export interface TextTurnInput extends TypedMessage {
  chatRoom: ChatRoom;
}

/** An edit made through another process reaches text turns within this (this one's at once). */
const CHARACTER_TTL_MS = 5_000;
/** Rooms whose latest messages are kept in memory (least recently used dropped first). */
const HISTORY_ROOMS = 5_000;

/**
 * The token service's conversations, one per room: each opened with its character (read at
 * most once per {@link CHARACTER_TTL_MS}, and again at once after `forgetCharacter`) on the
 * room's history this process keeps in memory, so every text transport feeds the same
 * {@link CharacterConversation} a voice session does.
 */
export class CharacterConversations {
  readonly #characters: CharacterCache;
  readonly #rooms: RoomHistory;

  constructor(protected readonly deps: ConversationDeps) {
    this.#characters = new CharacterCache({ db: deps.db, ttlMs: CHARACTER_TTL_MS });
    this.#rooms = new RoomHistory(deps.historyMessages, HISTORY_ROOMS);
  }

  /**
   * The room's conversation, with its character as edited through this process, or through
   * another one at most five seconds ago. Each turn opens it anew, so an edit between two
   * turns of one open socket reaches the second.
   */
  async open(chatRoom: ChatRoom): Promise<CharacterConversation> {
    const character = await this.#characters.get(chatRoom.characterId);
    const { deps } = this;
    return this.conversation({
      core: deps,
      typed: deps,
      chatRoom,
      character,
      history: this.#rooms,
    });
  }

  /** One typed message in, the character's reply out (streamed through `onDelta`), both stored. */
  async runTextTurn({ chatRoom, ...message }: TextTurnInput): Promise<TextTurnResult> {
    return (await this.open(chatRoom)).runTextTurn(message);
  }

  /** Stores the character's greeting if the room has no messages yet; returns it if stored. */
  async greet(chatRoom: ChatRoom): Promise<Message | undefined> {
    return (await this.open(chatRoom)).greet();
  }

  /** The room was deleted: its history kept in memory goes too. */
  forgetRoom(chatRoomId: number): void {
    this.#rooms.forget(chatRoomId);
  }

  /** The character was edited or deleted: the next turn reads it afresh. */
  forgetCharacter(characterId: string): void {
    this.#characters.forget(characterId);
  }

  /** A room's conversation object (the benchmark measures variants of it). */
  protected conversation(params: CharacterConversationParams): CharacterConversation {
    return new CharacterConversation(params);
  }
}

/** What a text transport feeds one room's conversation through. */
export type RoomConversation = Pick<CharacterConversation, 'greet' | 'runTextTurn'>;

/** The conversations, as the token service and tests call them. */
export interface Conversation {
  /** The room's conversation, to greet and feed typed messages to. */
  open(chatRoom: ChatRoom): Promise<RoomConversation>;
  /** `open(chatRoom)`, then its `runTextTurn`: for a transport that sends one message a request. */
  runTextTurn(input: TextTurnInput): Promise<TextTurnResult>;
  greet(chatRoom: ChatRoom): Promise<Message | undefined>;
  forgetRoom(chatRoomId: number): void;
  forgetCharacter(characterId: string): void;
}

export interface LoadConversationDeps extends ConversationCore {
  db: Executor;
  historyMessages: number;
}

/**
 * A voice session's conversation: its room, character and recent history read from the
 * database. The room and character must exist (a dispatch or an offer names them).
 */
export async function loadConversation(
  deps: LoadConversationDeps,
  chatRoomId: number,
): Promise<CharacterConversation> {
  const chatRoom = await getChatRoom(deps.db, chatRoomId);
  if (chatRoom === undefined)
    throw new AppError('ROOM.NOT_FOUND', `Chat room ${chatRoomId} does not exist`);
  const character = await getCharacter(deps.db, chatRoom.characterId);
  if (character === undefined)
    throw new AppError('CHARACTER.NOT_FOUND', 'The room’s character no longer exists');
  const history = new RoomHistory(deps.historyMessages, 1);
  history.remember(chatRoom.id, await recentMessages(deps.db, chatRoom.id, deps.historyMessages));
  return new CharacterConversation({ core: deps, chatRoom, character, history });
}

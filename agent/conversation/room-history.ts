import { LRUCache } from 'lru-cache';
import type { Message } from '../../db/schema.js';

/**
 * The latest messages of the rooms text turns ran in, so a turn's history costs no database
 * read. Sequence numbers are gapless per room and messages are never edited, so a room's
 * window is current exactly when a new message's `seq` follows its last one; anything else
 * (a voice session wrote in between, a restart, an eviction) drops the window and the caller
 * reads the database instead.
 */
export class RoomHistory {
  readonly #rooms: LRUCache<number, Message[]>;

  /**
   * @param limit messages kept per room (the prompt's history length).
   * @param maxRooms rooms kept; the least recently used is dropped first.
   */
  constructor(
    private readonly limit: number,
    maxRooms: number,
  ) {
    this.#rooms = new LRUCache({ max: maxRooms });
  }

  /**
   * Adds `message` to its room's window and returns the window (oldest first, ending with
   * `message`), or undefined when the window is not known to be complete.
   */
  append(message: Message): Message[] | undefined {
    // A room's first message is its whole history.
    const window = message.seq === 1 ? [] : this.#rooms.get(message.chatRoomId);
    const lastSeq = window?.at(-1)?.seq ?? 0;
    if (window === undefined || lastSeq + 1 !== message.seq) {
      this.#rooms.delete(message.chatRoomId);
      return undefined;
    }
    window.push(message);
    if (window.length > this.limit) window.splice(0, window.length - this.limit);
    this.#touch(message.chatRoomId, window);
    return [...window];
  }

  /** The room's window (oldest first), if one is kept; it may lag what others wrote since. */
  current(chatRoomId: number): Message[] | undefined {
    const window = this.#rooms.get(chatRoomId);
    if (window === undefined) return undefined;
    this.#touch(chatRoomId, window);
    return [...window];
  }

  /**
   * Starts a room's window from a database read of its latest messages (oldest first). An
   * empty read starts an empty window: the room's next message must then be its first.
   */
  remember(chatRoomId: number, messages: Message[]): void {
    this.#touch(chatRoomId, messages.slice(-this.limit));
  }

  /** Drops a room's window: the room was deleted, nothing of it may be served again. */
  forget(chatRoomId: number): void {
    this.#rooms.delete(chatRoomId);
  }

  #touch(chatRoomId: number, window: Message[]): void {
    this.#rooms.set(chatRoomId, window);
  }
}

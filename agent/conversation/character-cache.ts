import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { getCharacter } from '../../db/queries/characters.js';
import type { Character } from '../../db/schema.js';

export interface CharacterCacheOptions {
  db: Executor;
  /** How long a read character is used before it is read again: an edit shows up within this. */
  ttlMs: number;
  /** Past this many characters, expired entries are dropped. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  character: Promise<Character>;
  expiresAt: number;
}

/**
 * Characters as text turns need them, read at most once per `ttlMs` each: every turn needs its
 * character's persona, and a database read per turn is a large part of a turn's cost. Turns
 * arriving together for the same character share one read.
 */
export class CharacterCache {
  readonly #entries = new Map<string, Entry>();
  readonly #options: Required<CharacterCacheOptions>;

  constructor(options: CharacterCacheOptions) {
    this.#options = { maxEntries: 10_000, now: Date.now, ...options };
  }

  /** The character; throws `CHARACTER.NOT_FOUND` if it no longer exists. */
  get(id: string): Promise<Character> {
    const now = this.#options.now();
    const cached = this.#entries.get(id);
    if (cached !== undefined && cached.expiresAt > now) return cached.character;
    const character = this.#read(id);
    this.#prune(now);
    this.#entries.set(id, { character, expiresAt: now + this.#options.ttlMs });
    // A failed read is not remembered: the next turn asks the database again.
    character.catch(() => {
      if (this.#entries.get(id)?.character === character) this.#entries.delete(id);
    });
    return character;
  }

  async #read(id: string): Promise<Character> {
    const character = await getCharacter(this.#options.db, id);
    if (character === undefined)
      throw new AppError('CHARACTER.NOT_FOUND', 'This character no longer exists');
    return character;
  }

  #prune(now: number): void {
    if (this.#entries.size < this.#options.maxEntries) return;
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id);
    // Still full of live entries: start over rather than grow without bound.
    if (this.#entries.size >= this.#options.maxEntries) this.#entries.clear();
  }
}

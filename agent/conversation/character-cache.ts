import { LRUCache } from 'lru-cache';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import { getCharacter } from '../../db/queries/characters.js';
import type { Character } from '../../db/schema.js';

export interface CharacterCacheOptions {
  db: Executor;
  /**
   * How long a read character is used before it is read again: an edit made through another
   * process shows up within this (one made through this process is `forget`-ed at once).
   */
  ttlMs: number;
  /** At most this many characters are kept; the least recently used go first. */
  maxEntries?: number;
  /** The clock the time to live is read on (milliseconds); `Date.now` unless a test sets it. */
  now?: () => number;
}

/**
 * Characters as text turns need them, read at most once per `ttlMs` each: every turn needs its
 * character's persona, and a database read per turn is a large part of a turn's cost. Turns
 * arriving together for the same character share one read (lru-cache's `fetch`); a failed read
 * is not remembered, so the next turn asks the database again. An edit made in this process
 * calls `forget`, so the next turn reads the edited character.
 */
export class CharacterCache {
  readonly #entries: LRUCache<string, Character>;

  constructor({ db, ttlMs, maxEntries = 10_000, now = Date.now }: CharacterCacheOptions) {
    this.#entries = new LRUCache<string, Character>({
      max: maxEntries,
      ttl: ttlMs,
      // Read the clock on every look, so an entry ends exactly `ttlMs` after its read.
      perf: { now },
      ttlResolution: 0,
      fetchMethod: (id) => readCharacter(db, id),
      // A read still under way when its character is forgotten completes for the turns that
      // were waiting on it (they began before the edit) but is not kept: without this they
      // would fail with lru-cache's abort error.
      ignoreFetchAbort: true,
    });
  }

  /** The character; throws `CHARACTER.NOT_FOUND` if it no longer exists. */
  async get(id: string): Promise<Character> {
    const character = await this.#entries.fetch(id);
    // `fetchMethod` never resolves undefined: a missing character throws.
    if (character === undefined) throw new AppError('CHARACTER.NOT_FOUND', 'No such character');
    return character;
  }

  /** The character was edited: the next `get` reads it again. */
  forget(id: string): void {
    this.#entries.delete(id);
  }
}

async function readCharacter(db: Executor, id: string): Promise<Character> {
  const character = await getCharacter(db, id);
  if (character === undefined)
    throw new AppError('CHARACTER.NOT_FOUND', 'This character no longer exists');
  return character;
}

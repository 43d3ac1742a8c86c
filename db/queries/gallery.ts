import { and, desc, eq, ilike, ne, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { type Character, characters } from '../schema.js';

export interface GalleryQuery {
  /** The viewer: their own characters are not part of their gallery. */
  viewerId: string;
  /** Words in the name or description (case-insensitive substring). */
  q?: string;
  /** `popular`: most conversations first; `new`: newest first. */
  sort: 'popular' | 'new';
  limit: number;
  offset: number;
}

export interface GalleryRow {
  character: Character;
  /** How many people have a conversation with it (its chat rooms). */
  conversations: number;
}

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One page of other people's public characters. Ties are broken by id, so pages taken with
 * a growing offset neither repeat nor skip a character while nothing changes in between.
 */
export async function listGallery(db: Executor, query: GalleryQuery): Promise<GalleryRow[]> {
  // Spelled out: inside a one-table select drizzle leaves column names unqualified.
  const conversations =
    sql<number>`(select count(*) from "chat_rooms" where "chat_rooms"."character_id" = "characters"."id")`
      .mapWith(Number)
      .as('conversations');
  const filters: SQL[] = [eq(characters.isPublic, true), ne(characters.ownerId, query.viewerId)];
  if (query.q !== undefined && query.q !== '') {
    const pattern = containsPattern(query.q);
    const text = or(ilike(characters.name, pattern), ilike(characters.description, pattern));
    if (text !== undefined) filters.push(text);
  }
  const order =
    query.sort === 'popular'
      ? [desc(sql`conversations`), desc(characters.createdAt), desc(characters.id)]
      : [desc(characters.createdAt), desc(characters.id)];
  const rows = await db
    .select({ character: characters, conversations })
    .from(characters)
    .where(and(...filters))
    .orderBy(...order)
    .limit(query.limit)
    .offset(query.offset);
  return rows;
}

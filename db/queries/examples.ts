import type { Executor } from '../client.js';
import { characters, knowledgeDocuments, userProfiles } from '../schema.js';

/** What seeding writes: an owner, their characters and the characters' documents. */
export interface ExampleRows {
  owner: typeof userProfiles.$inferInsert;
  characters: (typeof characters.$inferInsert)[];
  documents: (typeof knowledgeDocuments.$inferInsert)[];
}

/**
 * Inserts the rows that do not exist yet (by id), all in one transaction, so two processes
 * seeding together cannot half-seed. Returns how many characters it created.
 */
export async function insertMissingExamples(db: Executor, rows: ExampleRows): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.insert(userProfiles).values(rows.owner).onConflictDoNothing();
    const created = await tx
      .insert(characters)
      .values(rows.characters)
      .onConflictDoNothing()
      .returning({ id: characters.id });
    await tx.insert(knowledgeDocuments).values(rows.documents).onConflictDoNothing();
    return created.length;
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { createDocument } from '../../db/queries/knowledge.js';
import type { KnowledgeDocument } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { makeCharacter, makeUser } from '../../tests/helpers/fixtures.js';
import { DOCUMENTS_AT_ONCE, embedPendingDocuments } from './deferred-embedding.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

describe('embedPendingDocuments', () => {
  it('embeds several pending documents at once, oldest first, each once, a failure not stopping the rest', async () => {
    const character = await makeCharacter(database.db, await makeUser(database.db));
    const created: KnowledgeDocument[] = [];
    for (let i = 0; i < 2 * DOCUMENTS_AT_ONCE + 1; i++) {
      created.push(
        await createDocument(database.db, {
          characterId: character.id,
          title: `page ${i}`,
          contentType: 'text/plain',
          content: `Page ${i}`,
        }),
      );
    }
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const ingest = async (document: KnowledgeDocument) => {
      started.push(document.id);
      running += 1;
      most = Math.max(most, running);
      // Long enough that documents ingested one after another would never overlap.
      await new Promise((resolve) => setTimeout(resolve, 50));
      running -= 1;
      if (document.id === created[1]?.id) throw new Error('provider down');
    };
    const logger = createLogger({ level: 'silent' });
    const tried = await embedPendingDocuments({ db: database.db, logger, ingest });
    expect(tried).toBe(created.length);
    expect(started).toEqual(created.map((document) => document.id));
    expect(most).toBe(DOCUMENTS_AT_ONCE);
  });
});

import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { SYSTEM_PROFILE_ID } from '../../db/queries/profiles.js';
import { characters, knowledgeDocuments } from '../../db/schema.js';
import { startTestBrain } from '../../tests/helpers/brain.js';
import { openTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { authUserFromClaims } from '../../token-service/auth/auth-user.js';
import { createDevSession } from '../../token-service/auth/dev-session.js';
import type { LocalIssuer } from '../../token-service/auth/local-issuer.js';
import { embedPendingDocuments, startDeferredEmbedding } from '../knowledge/deferred-embedding.js';
import { EXAMPLE_CHARACTERS } from './characters.js';
import { seedExampleCharacters } from './seed.js';

let database: TestDatabase;
const silent = createLogger({ level: 'silent' });

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.close());

const documentStates = async () =>
  (await database.db.select().from(knowledgeDocuments)).map((d) => [d.title, d.status]);

describe('example characters', () => {
  it('are created once, however often (and however concurrently) the server starts', async () => {
    expect(await seedExampleCharacters(database.db)).toBe(EXAMPLE_CHARACTERS.length);
    const first = await database.db.select().from(characters);
    const again = await Promise.all([
      seedExampleCharacters(database.db),
      seedExampleCharacters(database.db),
    ]);
    expect(again).toEqual([0, 0]);
    const after = await database.db.select().from(characters);
    expect(after).toEqual(first);
    expect(after).toHaveLength(EXAMPLE_CHARACTERS.length);
    for (const character of after) {
      expect(character).toMatchObject({ ownerId: SYSTEM_PROFILE_ID, isPublic: true });
      expect(character.greeting).toBeTruthy();
      expect(character.voiceId).toBeTruthy();
    }
    expect(await database.db.select().from(knowledgeDocuments)).toHaveLength(after.length);
  });

  it('keep their documents pending while no embedding provider is configured', async () => {
    const test = await startTestBrain(database.db, {
      env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' },
    });
    try {
      expect(test.brain.embeddingsConfigured).toBe(false);
      const [document] = await database.db.select().from(knowledgeDocuments).limit(1);
      if (document === undefined) throw new Error('no seeded document');
      await test.brain.ingestDocument(document);
      expect(new Set((await documentStates()).map(([, status]) => status))).toEqual(
        new Set(['pending']),
      );
      expect(test.emulator.requests.embeddings).toHaveLength(0);
    } finally {
      await test.close();
    }
  });

  it('have their pending documents embedded once a provider is configured, and retrieval uses them', async () => {
    const test = await startTestBrain(database.db);
    try {
      // As `npm start` does: a sweep at start-up embeds every pending document.
      const sweeps = startDeferredEmbedding({
        db: database.db,
        logger: silent,
        ingest: (document) => test.brain.ingestDocument(document),
      });
      await sweeps.idle();
      await sweeps.close();
      expect(test.emulator.requests.embeddings.length).toBeGreaterThan(0);
      expect(new Set((await documentStates()).map(([, status]) => status))).toEqual(
        new Set(['ready']),
      );
      // Nothing left: a second sweep finds nothing to do.
      expect(
        await embedPendingDocuments({
          db: database.db,
          logger: silent,
          ingest: (document) => test.brain.ingestDocument(document),
        }),
      ).toBe(0);

      const mira = EXAMPLE_CHARACTERS.find((c) => c.name === 'Mira');
      const found = await test.brain.retriever.retrieve(
        mira?.id ?? '',
        'What is the main telescope called and what is it best for?',
      );
      expect(found.map((chunk) => chunk.content).join('\n')).toContain('Old Brass');
      const [miraDocument] = await database.db
        .select()
        .from(knowledgeDocuments)
        .where(eq(knowledgeDocuments.characterId, mira?.id ?? ''));
      expect(found.every((chunk) => chunk.documentId === miraDocument?.id)).toBe(true);
    } finally {
      await test.close();
    }
  });

  it('belong to a profile no access token can act as', async () => {
    expect(() =>
      authUserFromClaims(
        { sub: SYSTEM_PROFILE_ID, role: 'authenticated' },
        { allowAnonymousUsers: true },
      ),
    ).toThrow('reserved');
    const issuer = { issueAccessToken: () => Promise.reject(new Error('must not be issued')) };
    await expect(
      createDevSession(
        // Only issueAccessToken could be reached, and it must not be.
        { issuer: issuer as unknown as LocalIssuer, devSessionsEnabled: true },
        { user_id: SYSTEM_PROFILE_ID },
      ),
    ).rejects.toMatchObject({ code: 'REQUEST.INVALID' });
  });
});

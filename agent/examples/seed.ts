import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Executor } from '../../db/client.js';
import { insertMissingExamples } from '../../db/queries/examples.js';
import { EXAMPLE_CHARACTERS, SYSTEM_PROFILE } from './characters.js';

const KNOWLEDGE_DIR = join(import.meta.dirname, 'knowledge');

/**
 * Creates the example characters, their owner and their knowledge documents unless they
 * exist: every start calls it, and a second start changes nothing (fixed ids, insert-or-skip,
 * one transaction, so two processes starting together cannot half-seed). New documents are
 * `pending`; deferred embedding (agent/knowledge/deferred-embedding.ts) embeds them. Returns
 * how many characters it created.
 */
export async function seedExampleCharacters(db: Executor): Promise<number> {
  const documents = await Promise.all(
    EXAMPLE_CHARACTERS.map(async (example) => ({
      id: example.knowledge.id,
      characterId: example.id,
      title: example.knowledge.title,
      contentType: 'text/markdown',
      content: await readFile(join(KNOWLEDGE_DIR, example.knowledge.file), 'utf8'),
    })),
  );
  return insertMissingExamples(db, {
    owner: SYSTEM_PROFILE,
    characters: EXAMPLE_CHARACTERS.map((example) => ({
      id: example.id,
      ownerId: SYSTEM_PROFILE.id,
      name: example.name,
      instructions: example.instructions,
      greeting: example.greeting,
      voiceId: example.voiceId,
      isPublic: true,
    })),
    documents,
  });
}

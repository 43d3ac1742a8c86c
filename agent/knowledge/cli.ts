/**
 * `npm run ingest -- <character id or name> <files...>`: teaches a character text and
 * Markdown files. A file already taught (same file name) is replaced.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { MultiBar } from 'cli-progress';
import { loadConfig } from '../../core/config.js';
import { AppError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import { openDatabase } from '../../db/client.js';
import { findCharactersByName, getCharacter } from '../../db/queries/characters.js';
import {
  createDocument,
  findDocumentByTitle,
  updateDocumentContent,
} from '../../db/queries/knowledge.js';
import type { Character, KnowledgeDocument } from '../../db/schema.js';
import { createOpenAIClient, openAIConfigured } from '../providers/openai-client.js';
import { LLM_SETUP } from '../providers/status.js';
import type { DocumentContentType } from './chunker.js';
import { ingestAtOnce } from './deferred-embedding.js';
import { createOpenAIEmbedder } from './embedder.js';
import { ingestDocument } from './ingest.js';

const CONTENT_TYPES: Record<string, DocumentContentType> = {
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
  '.text': 'text/plain',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function resolveCharacter(db: Executor, reference: string): Promise<Character> {
  const byId = UUID.test(reference) ? await getCharacter(db, reference) : undefined;
  if (byId !== undefined) return byId;
  const byName = await findCharactersByName(db, reference);
  if (byName.length === 1 && byName[0] !== undefined) return byName[0];
  const problem =
    byName.length === 0 ? 'No character has the id or name' : 'Several characters are named';
  throw new AppError('CHARACTER.NOT_FOUND', `${problem} "${reference}"; use the character's id`);
}

function contentTypeOf(path: string): DocumentContentType {
  const type = CONTENT_TYPES[extname(path).toLowerCase()];
  if (type === undefined) {
    throw new AppError(
      'REQUEST.INVALID',
      `${path}: only .md, .markdown, .txt and .text files can be taught`,
    );
  }
  return type;
}

async function storeFile(
  db: Executor,
  character: Character,
  path: string,
): Promise<KnowledgeDocument> {
  const contentType = contentTypeOf(path);
  const content = await readFile(path, 'utf8');
  const title = basename(path);
  const existing = await findDocumentByTitle(db, { characterId: character.id, title });
  return existing === undefined
    ? createDocument(db, { characterId: character.id, title, contentType, content })
    : updateDocumentContent(db, { id: existing.id, content, contentType });
}

async function main(args: string[]): Promise<void> {
  const [reference, ...files] = args;
  if (reference === undefined || files.length === 0) {
    throw new AppError(
      'REQUEST.INVALID',
      'Usage: npm run ingest -- <character id or name> <files...>',
    );
  }
  files.forEach(contentTypeOf);
  const config = loadConfig();
  // Never call a provider that is not configured (it would be OpenAI's public API, keyless).
  if (!openAIConfigured(config)) throw embeddingsNotConfigured();
  const logger = createLogger({ level: 'warn' });
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    applicationName: 'parley-knowledge',
  });
  try {
    await database.migrate();
    const character = await resolveCharacter(database.db, reference);
    const embedder = createOpenAIEmbedder(createOpenAIClient(config), config.openai.embeddingModel);
    await teachFiles({ db: database.db, embedder, logger }, character, files);
  } finally {
    await database.close();
  }
}

/**
 * Stores every file as the character's document, then embeds them as the pending-document
 * sweep does ({@link ingestAtOnce}: a few at once), with a progress bar each. A file that
 * fails is reported and the others are still taught.
 */
async function teachFiles(
  deps: Parameters<typeof ingestDocument>[0],
  character: Character,
  files: string[],
): Promise<void> {
  const documents: KnowledgeDocument[] = [];
  for (const path of files) documents.push(await storeFile(deps.db, character, path));
  const bars = new MultiBar({ format: '{file} [{bar}] {value}/{total} chunks' });
  const results = await ingestAtOnce(documents, async (document) => {
    const bar = bars.create(1, 0, { file: document.title });
    try {
      return await ingestDocument(deps, document, (p) => {
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.embedded);
      });
    } finally {
      bar.stop();
    }
  });
  bars.stop();
  results.forEach((result, i) => {
    const title = documents[i]?.title;
    if (result.status === 'fulfilled') {
      console.log(`${title}: ${result.value.chunks} chunks taught to ${character.name}`);
    } else {
      const reason = result.reason instanceof Error ? result.reason.message : result.reason;
      console.error(`${title}: not taught (${reason})`);
      process.exitCode = 1;
    }
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof AppError ? error.message : error);
  process.exitCode = 1;
});

function embeddingsNotConfigured(): AppError {
  return new AppError(
    'PROVIDER.NOT_CONFIGURED',
    `Embeddings need ${LLM_SETUP.variable}; or run \`${LLM_SETUP.alternative}\` and use its settings`,
    { details: { ...LLM_SETUP } },
  );
}

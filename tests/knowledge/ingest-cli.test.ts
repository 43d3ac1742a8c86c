import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { listDocuments } from '../../db/queries/knowledge.js';
import type { Character } from '../../db/schema.js';
import {
  type OpenAIEmulator,
  startOpenAIEmulator,
} from '../dev-tools/providers/openai-emulator.js';
import { copyTemplate } from '../helpers/database.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';

const run = promisify(execFile);
let dataDir: string;
let filesDir: string;
let emulator: OpenAIEmulator;
let character: Character;

beforeAll(async () => {
  dataDir = await copyTemplate();
  filesDir = await mkdtemp(join(tmpdir(), 'parley-files-'));
  emulator = await startOpenAIEmulator();
  const database = await openDatabase({ dataDir });
  character = await makeCharacter(database.db, await makeUser(database.db), { name: 'Orion' });
  await database.close();
});
afterAll(async () => {
  await emulator.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(filesDir, { recursive: true, force: true });
});

function ingest(...args: string[]) {
  return run('node_modules/.bin/tsx', ['agent/knowledge/cli.ts', ...args], {
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      OPENAI_BASE_URL: emulator.baseURL,
      OPENAI_API_KEY: 'test-key',
    },
  });
}

const paragraph = (topic: string, i: number) =>
  `The ${topic} fact number ${i} is that observers should note the sky carefully before dawn.`;

async function documents() {
  const database = await openDatabase({ dataDir });
  try {
    return await listDocuments(database.db, character.id);
  } finally {
    await database.close();
  }
}

describe('npm run ingest', () => {
  it('teaches a Markdown file in chunks, and replaces it when taught again', async () => {
    const path = join(filesDir, 'sky.md');
    const sections = Array.from({ length: 8 }, (_, s) =>
      [`## Section ${s}`, ...Array.from({ length: 5 }, (_, i) => paragraph(`s${s}`, i))].join(
        '\n\n',
      ),
    );
    await writeFile(path, sections.join('\n\n'));
    const first = await ingest('Orion', path);
    const taught = Number(/(\d+) chunks taught to Orion/.exec(first.stdout)?.[1]);
    expect(taught).toBeGreaterThan(3);
    let docs = await documents();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ title: 'sky.md', status: 'ready', chunkCount: taught });

    await writeFile(path, '## Short\n\nOnly one small paragraph now.');
    await ingest(character.id, path);
    docs = await documents();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      status: 'ready',
      chunkCount: 1,
      content: '## Short\n\nOnly one small paragraph now.',
    });
    expect(emulator.requests.embeddings.length).toBeGreaterThanOrEqual(2);
  });

  it('teaches several files a few at once, as the pending-document sweep does', async () => {
    // A takes several embedding batches; B one. One after another, every request of A would
    // come before B's; at once, B's goes out while A is still between its batches.
    const large = join(filesDir, 'large.md');
    const sections = Array.from({ length: 300 }, (_, s) =>
      [`## Part ${s}`, ...Array.from({ length: 10 }, (_, i) => paragraph(`p${s}`, i))].join('\n\n'),
    );
    await writeFile(large, sections.join('\n\n'));
    const small = join(filesDir, 'small.md');
    await writeFile(small, 'The zebra fact is that its stripes are unique.');
    const before = emulator.requests.embeddings.length;
    const output = await ingest('Orion', large, small);
    expect(output.stdout).toContain('small.md: 1 chunks taught to Orion');
    const texts = emulator.requests.embeddings
      .slice(before)
      .map((request) => JSON.stringify(request.input));
    const largeRequests = texts.filter((text) => text.includes('fact number'));
    expect(largeRequests.length).toBeGreaterThanOrEqual(3);
    const smallAt = texts.findIndex((text) => text.includes('zebra'));
    const lastLargeAt = texts.findLastIndex((text) => text.includes('fact number'));
    expect(smallAt).toBeGreaterThan(-1);
    expect(smallAt).toBeLessThan(lastLargeAt);
    const docs = await documents();
    expect(docs.find((d) => d.title === 'large.md')).toMatchObject({ status: 'ready' });
    expect(docs.find((d) => d.title === 'small.md')).toMatchObject({
      status: 'ready',
      chunkCount: 1,
    });
  });

  it('says plainly what is wrong with an unknown character or file type', async () => {
    const path = join(filesDir, 'notes.md');
    await writeFile(path, 'hello');
    const unknown = await ingest('Nobody', path).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr.trim()).toBe(
      'No character has the id or name "Nobody"; use the character\'s id',
    );
    const pdf = await ingest('Orion', join(filesDir, 'paper.pdf')).catch(
      (error: { stderr: string }) => error,
    );
    expect((pdf as { stderr: string }).stderr).toContain(
      'only .md, .markdown, .txt and .text files',
    );
  });
});

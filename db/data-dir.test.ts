import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyTemplate } from '../tests/helpers/database.js';
import { openDatabase } from './client.js';

/**
 * The embedded database's directory is private and held by one opener at a time. The same
 * rules across processes (and after `kill -9`) are tested with real servers in
 * tests/http/start-process.test.ts.
 */
const dirs: string[] = [];
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function* walk(dir: string): AsyncGenerator<string> {
  yield dir;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

describe('the embedded database directory', () => {
  it('refuses a second opener while the first holds it, naming its pid', async () => {
    const dataDir = await copyTemplate();
    dirs.push(dataDir);
    const first = await openDatabase({ dataDir });
    try {
      const error = await openDatabase({ dataDir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DATABASE.UNAVAILABLE' });
      expect((error as Error).message).toContain(`in use by another process (pid ${process.pid})`);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    await again.ping();
    await again.close();
  });

  it('is 0700 and keeps its files from group and other, whatever the umask', async () => {
    const dataDir = join(await copyTemplate(), 'fresh');
    dirs.push(dataDir);
    // The outside review ran with umask 0: PGlite's files came out 0666.
    const previous = process.umask(0);
    try {
      const handle = await openDatabase({ dataDir });
      await handle.migrate();
      await handle.close();
    } finally {
      process.umask(previous);
    }
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const open: string[] = [];
    let files = 0;
    for await (const path of walk(dataDir)) {
      files += 1;
      if (((await stat(path)).mode & 0o077) !== 0) open.push(path);
    }
    expect(files).toBeGreaterThan(100);
    expect(open).toEqual([]);
  });
});

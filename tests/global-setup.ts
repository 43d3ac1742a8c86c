import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../db/client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A data directory holding a migrated embedded database; copy it, never open it. */
    databaseTemplateDir: string;
  }
}

/**
 * Creating an embedded database costs seconds; reopening a copy costs one. So the suite
 * migrates one template per run and every test file opens its own copy.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-db-template-'));
  const handle = await openDatabase({ dataDir: dir });
  await handle.migrate();
  await handle.close();
  project.provide('databaseTemplateDir', dir);
  return () => rm(dir, { recursive: true, force: true });
}

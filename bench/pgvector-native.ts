/**
 * pgvector built two ways from the vendored source, each in a private copy of the PostgreSQL
 * install tree, so benchmarks compare the builds side by side without touching the system
 * install that tests use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Install {
  label: string;
  binDir: string;
}

const PGVECTOR = 'pgvector-0.8.6';

/**
 * The vendored release source `.ci/run` builds: `../shared/vendor` beside the checkout, or
 * beside a directory above it (a worktree sits one level deeper than the main checkout).
 */
function pgvectorSource(): string {
  let dir = join(import.meta.dirname, '..');
  for (;;) {
    const tarball = join(dir, '..', 'shared', 'vendor', `${PGVECTOR}.tar.gz`);
    if (existsSync(tarball)) return tarball;
    if (dir === dirname(dir)) throw new Error(`hnsw bench: no ../shared/vendor/${PGVECTOR}.tar.gz`);
    dir = dirname(dir);
  }
}

/** How pgvector is compiled: `.ci/run`'s choice at the time, or the other. */
export type PgvectorFlags = 'portable' | 'native';

const LABELS: Record<PgvectorFlags, string> = {
  portable: 'pgvector OPTFLAGS="" (any x86-64)',
  native: 'pgvector -march=native (upstream default)',
};

/**
 * A private copy of the server's install tree with pgvector built from the vendored source,
 * `OPTFLAGS=""` (portable) or at upstream's default flags (native). PostgreSQL finds its lib
 * and share directories relative to its binaries, so the copy loads its own vector.so: the
 * comparison holds whatever the system install was built with, and never touches it.
 */
export async function privatePgvector(
  systemBin: string,
  flags: PgvectorFlags,
): Promise<{ install: Install; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `parley-pgvector-${flags}-`));
  await chmod(dir, 0o755); // The server runs as `postgres` and must read the tree.
  const pgConfig = join(systemBin, 'pg_config');
  const libDir = execFileSync(pgConfig, ['--pkglibdir'], { encoding: 'utf8' }).trim();
  const shareDir = execFileSync(pgConfig, ['--sharedir'], { encoding: 'utf8' }).trim();
  const root = join(systemBin, '..');
  const copyRoot = join(dir, 'root');
  for (const path of [root, shareDir]) await cp(path, join(copyRoot, path), { recursive: true });
  execFileSync('tar', ['xzf', pgvectorSource(), '-C', dir]);
  const source = join(dir, PGVECTOR);
  const make = ['-s', '-C', source, '-j2', `PG_CONFIG=${pgConfig}`];
  if (flags === 'portable') make.push('OPTFLAGS=');
  execFileSync('make', make, { stdio: 'ignore' });
  await mkdir(join(copyRoot, libDir), { recursive: true });
  await copyFile(join(source, 'vector.so'), join(copyRoot, libDir, 'vector.so'));
  const install = { label: LABELS[flags], binDir: join(copyRoot, systemBin) };
  return { install, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Both builds, portable first; `dispose` removes both trees. */
export async function bothPgvectorBuilds(
  systemBin: string,
): Promise<{ installs: Install[]; dispose: () => Promise<void> }> {
  const portable = await privatePgvector(systemBin, 'portable');
  const native = await privatePgvector(systemBin, 'native').catch(async (error: unknown) => {
    await portable.dispose();
    throw error;
  });
  return {
    installs: [portable.install, native.install],
    dispose: async () => {
      await Promise.all([portable.dispose(), native.dispose()]);
    },
  };
}

/** The backend really runs the vector.so of the install under test (not the system's). */
export function assertLoadedFrom(pid: number, binDir: string): void {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  const loaded = maps.split('\n').find((line) => line.endsWith('/vector.so'));
  const root = dirname(dirname(binDir));
  if (loaded === undefined || !loaded.includes(` ${root}/`)) {
    throw new Error(`hnsw bench: backend loaded ${loaded?.split(' ').pop()}, not from ${root}`);
  }
}

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, `postgres`
 * on a free loopback port, everything gone when stopped. It needs only the server binaries
 * (and pgvector installed into them), not a system cluster, a fixed port or a service manager,
 * so the same code runs in CI (as root) and on a developer's machine (as themselves).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/** Where the PostgreSQL server binaries are, or why the PostgreSQL half cannot run. */
export type PostgresInstall = { binDir: string } | { missing: string };

/**
 * Finds `initdb` and `postgres` (through `pg_config` on the PATH, else Debian's
 * /usr/lib/postgresql/N/bin, newest first) and checks that pgvector is installed there.
 */
export function findPostgres(): PostgresInstall {
  const candidates = [binDirOf('pg_config'), ...debianBinDirs()].filter(
    (dir): dir is string => dir !== undefined,
  );
  const binDir = candidates.find((dir) => existsSync(join(dir, 'initdb')));
  if (binDir === undefined) return { missing: 'no PostgreSQL server binaries (initdb) found' };
  const shareDir = run(join(binDir, 'pg_config'), ['--sharedir']);
  if (shareDir === undefined || !existsSync(join(shareDir, 'extension', 'vector.control'))) {
    return { missing: `pgvector is not installed into ${binDir}/..` };
  }
  return { binDir };
}

function binDirOf(pgConfig: string): string | undefined {
  return run(pgConfig, ['--bindir']);
}

function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'));
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .replace(/\n.*$/s, '');
  } catch {
    return undefined;
  }
}

/** The database the suite's global setup migrates on its PostgreSQL; copied, never opened. */
export const POSTGRES_TEMPLATE = 'parley_template';

export interface PostgresServer {
  /** A URL for the superuser `parley` to `database` (default: `postgres`). */
  url(database?: string): string;
  port: number;
  /** A fast shutdown and a start on the same port and data: what `pg_ctl restart` does. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresServerOptions {
  binDir: string;
  /**
   * Skip fsync and synchronous commit: a throwaway cluster loses nothing to a clean restart
   * without them, and the suite runs faster. Off for a test about durability.
   */
  fast?: boolean;
}

/** Starts a fresh cluster; `stop()` shuts it down and deletes it. */
export async function startPostgresServer(options: PostgresServerOptions): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-pg-'));
  const password = randomBytes(18).toString('base64url');
  const owner = serverUser();
  try {
    await writeFile(join(dir, 'password'), password);
    if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
    if (owner !== undefined) await chown(join(dir, 'password'), owner.uid, owner.gid);
    await initdb(options.binDir, dir, owner);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  let postmaster = await startPostmaster(options, dir, port, owner);
  const url = (database = 'postgres') =>
    `postgres://parley:${password}@127.0.0.1:${port}/${database}`;
  return {
    url,
    port,
    restart: async () => {
      await shutdown(postmaster);
      postmaster = await startPostmaster(options, dir, port, owner);
    },
    stop: async () => {
      await shutdown(postmaster);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface OsUser {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root (CI runs as root): then the server runs as the `postgres`
 * user the Debian package creates. As anyone else it runs as that user.
 */
function serverUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = run('id', ['-u', 'postgres']);
  const gid = run('id', ['-g', 'postgres']);
  if (uid === undefined || gid === undefined) {
    throw new Error('PostgreSQL cannot run as root and there is no `postgres` user to run it as');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

async function initdb(binDir: string, dir: string, owner: OsUser | undefined): Promise<void> {
  const args = [
    ...['-D', join(dir, 'data'), '-U', 'parley', `--pwfile=${join(dir, 'password')}`],
    ...['--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
  ];
  const child = spawn(join(binDir, 'initdb'), args, { cwd: dir, ...owner, stdio: 'pipe' });
  const output = collect(child);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`initdb failed (${code}): ${output()}`);
}

/** Starts `postgres` in the foreground and resolves once it accepts connections. */
async function startPostmaster(
  options: PostgresServerOptions,
  dir: string,
  port: number,
  owner: OsUser | undefined,
): Promise<ChildProcess> {
  const settings = {
    listen_addresses: '127.0.0.1',
    max_connections: '300',
    ...(options.fast === false ? {} : { fsync: 'off', synchronous_commit: 'off' }),
    full_page_writes: options.fast === false ? 'on' : 'off',
  };
  const args = ['-D', join(dir, 'data'), '-k', dir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const child = spawn(join(options.binDir, 'postgres'), args, {
    cwd: dir,
    ...owner,
    stdio: 'pipe',
  });
  const output = collect(child);
  // A server left behind by a crashed test run would hold its port and directory forever.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output().includes('database system is ready to accept connections')) resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${output()}`)));
  });
  return child;
}

/** A fast shutdown: open transactions roll back, committed ones are on disk. */
async function shutdown(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/** Keeps the last few kilobytes a child wrote, for error messages. */
function collect(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}

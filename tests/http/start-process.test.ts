import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { copyTemplate, freePort } from '../helpers/database.js';

/**
 * `npm start` as an operator runs it. A failure to start is one line on stderr and exit code
 * 1; a good start prints where to open the app, serves it, and stops cleanly on SIGTERM.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
const started: ChildProcess[] = [];

afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGKILL');
  }
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * Runs the server in its own process group with a clean environment (only what a shell
 * gives, plus what the test sets), the way a terminal runs it: `npm start` by default, or
 * the one process a container would run (`node --import tsx`), whose exit code is the
 * server's own rather than npm's.
 */
function start(env: Record<string, string>, how: 'npm' | 'node' = 'npm'): ChildProcess {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  const [command, args] =
    how === 'npm'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, ['--import', 'tsx', 'token-service/main.ts']];
  const child = spawn(command, args as string[], {
    cwd: ROOT,
    env: { ...base, ...env },
    detached: true,
  });
  started.push(child);
  return child;
}

/** Ctrl-C in a terminal signals the whole foreground group. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function finish(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

/** The URL the server prints once it serves; rejects if it exits first. */
function ready(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const match = /^Parley is ready: open (\S+) in a browser$/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.on('close', () => reject(new Error('npm start exited before it was ready')));
  });
}

describe('npm start', () => {
  it('exits 1 with one line when DATABASE_URL cannot be reached', {
    timeout: 120_000,
  }, async () => {
    const port = await freePort();
    const child = start({
      DATABASE_URL: `postgres://parley:hunter2@127.0.0.1:${port}/parley`,
      DATA_DIR: `/tmp/parley-never-${port}`,
    });
    const { code, stderr } = await finish(child);
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^parley: Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/parley`),
    );
    expect(stderr).not.toContain('hunter2');
  });

  it('exits 1 with one line naming every bad setting', { timeout: 120_000 }, async () => {
    const { code, stderr } = await finish(start({ PORT: 'eighty', LOG_LEVEL: 'loud' }));
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^parley: Invalid configuration: /);
    expect(lines[0]).toContain('PORT');
    expect(lines[0]).toContain('LOG_LEVEL');
  });

  it('starts on the embedded database, serves, and stops cleanly on Ctrl-C', {
    timeout: 180_000,
  }, async () => {
    const dataDir = await copyTemplate();
    dirs.push(dataDir);
    const child = start({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' }, 'node');
    const finished = finish(child);
    const url = await ready(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await fetch(new URL('/ready', url))).json()).toEqual({ status: 'ready' });
    const refused = await fetch(new URL('/api/characters', url));
    expect(refused.status).toBe(401);
    signalGroup(child, 'SIGINT');
    const { code, stderr } = await finished;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('refuses a second server on the same DATA_DIR with one line naming the first', {
    timeout: 180_000,
  }, async () => {
    const dataDir = await copyTemplate();
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    const first = start(env, 'node');
    const url = await ready(first);
    const second = start(env, 'node');
    // Without the lock the second one serves too: fail fast then, not at the timeout.
    const served = ready(second).then(
      () => ({ code: 'served' as const, stderr: '' }),
      () => new Promise<never>(() => {}),
    );
    const { code, stderr } = await Promise.race([finish(second), served]);
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^parley: The embedded database in \S+ is in use by another process/);
    expect(lines[0]).toContain(`(pid ${first.pid})`);
    // The first one never noticed.
    expect((await fetch(new URL('/ready', url))).status).toBe(200);
    signalGroup(first, 'SIGTERM');
    expect((await finish(first)).code).toBe(0);
  });

  it('starts on a DATA_DIR whose last server was killed with SIGKILL', {
    timeout: 180_000,
  }, async () => {
    const dataDir = await copyTemplate();
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    const crashed = start(env, 'node');
    await ready(crashed);
    const gone = finish(crashed);
    signalGroup(crashed, 'SIGKILL');
    await gone;
    const next = start(env, 'node');
    const url = await ready(next);
    expect(await (await fetch(new URL('/ready', url))).json()).toEqual({ status: 'ready' });
    signalGroup(next, 'SIGTERM');
    expect((await finish(next)).code).toBe(0);
  });
});

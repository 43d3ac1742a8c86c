import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  loadOrCreateSigningKey,
  signingKeyPath,
} from '../../token-service/auth/signing-key-file.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm start` as its own process, as an operator runs several behind a load balancer. */
export interface ApiProcess {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  base: string;
  /** Everything the process (and a worker child it started) wrote, for failure messages. */
  output(): string;
  /** SIGTERM to the process group (the server and any worker child), then waits. */
  stop(): Promise<void>;
}

/**
 * Data directories for several API processes that must accept each other's dev tokens: the
 * same signing key in each, as a deployment shares one secret.
 */
export async function sharedKeyDataDirs(count: number): Promise<string[]> {
  const dirs = await Promise.all(
    Array.from({ length: count }, () => mkdtemp(join(tmpdir(), 'parley-api-'))),
  );
  const [first, ...others] = dirs;
  if (first === undefined) return [];
  await loadOrCreateSigningKey(first);
  for (const dir of others) {
    await mkdir(dirname(signingKeyPath(dir)), { recursive: true, mode: 0o700 });
    await copyFile(signingKeyPath(first), signingKeyPath(dir));
  }
  return dirs;
}

/** Starts `token-service/main.ts` with only `env` (plus PATH and HOME); resolves when ready. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'token-service/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-20_000);
  };
  child.stderr?.on('data', keep);
  const base = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      keep(Buffer.from(`${line}\n`));
      const match = /^Parley is ready: open (\S+)\/ in a browser$/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`the API exited (${code}) before ready:\n${text}`)),
    );
  });
  let stopping = false;
  // A process that dies on its own is a finding: say so with what it wrote, at once.
  child.once('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(`API process ${base} exited (${code ?? signal}):\n${text}\n`);
  });
  return {
    base,
    output: () => text,
    stop: () => {
      stopping = true;
      return stopGroup(child);
    },
  };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone between the check and the kill.
    }
  }, 30_000);
  await exited;
  clearTimeout(timer);
}

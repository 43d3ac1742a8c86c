/**
 * The embedded database's directory: private to the server's user, and held by one process at
 * a time. Two processes writing one PGlite directory hand out the same sequence numbers and
 * lose each other's confirmed writes, so the second one must not start.
 */
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tryLock, unlock } from 'fs-native-extensions';
import { AppError } from '../core/errors.js';

const LOCK_FILE = 'pglite.lock';
const GROUP_OTHER_BITS = 0o077;

/** Held while a process uses the directory; `release` lets the next process in. */
export interface DataDirLock {
  release(): void;
}

/**
 * Makes `dataDir` a directory only this user can enter: created 0700, and set back to 0700
 * when an older version (or a umask of 0) left it open.
 */
export async function preparePrivateDataDir(dataDir: string): Promise<string> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/**
 * Takes group and other access off everything below `dir`. PGlite's file system layer sets
 * file modes itself (0666, 0644, ignoring the process umask), so this runs when the database
 * opens and when it closes; in between, the 0700 directory keeps others out of new files.
 */
export async function makePrivate(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const paths = entries
    .filter((entry) => entry.isFile() || entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name));
  for (const path of [dir, ...paths]) {
    const { mode } = await stat(path);
    if ((mode & GROUP_OTHER_BITS) !== 0) await chmod(path, mode & 0o700);
  }
}

/**
 * Takes the directory's lock or throws `DATABASE.UNAVAILABLE` naming the process that has it.
 *
 * The lock is an open file description lock (`fcntl(F_OFD_SETLK)` on Linux, `flock` on macOS)
 * on `pglite.lock`: the kernel drops it when the holder exits in any way, `kill -9` included,
 * so no stale lock is ever left behind and a reused pid cannot keep it. The pid written inside
 * is only for the message.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  let granted = false;
  try {
    granted = tryLock(fd);
  } finally {
    if (!granted) closeSync(fd);
  }
  if (!granted) throw await lockedError(dir, path);
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      unlock(fd);
      closeSync(fd);
    },
  };
}

async function lockedError(dir: string, path: string): Promise<AppError> {
  const pid = await readFile(path, 'utf8').then(
    (text) => /^\d+/.exec(text)?.[0],
    () => undefined,
  );
  const holder = pid === undefined ? 'another process' : `another process (pid ${pid})`;
  return new AppError(
    'DATABASE.UNAVAILABLE',
    `The embedded database in ${dir} is in use by ${holder}: stop that server first, or give ` +
      'this one another DATA_DIR (or a DATABASE_URL)',
    { details: { dataDir: dir, ...(pid === undefined ? {} : { pid: Number(pid) }) } },
  );
}

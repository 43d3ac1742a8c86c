/**
 * CPU time of another process from Linux's /proc, as a whole and per thread (grouped by thread
 * name), so a benchmark can read what a server spent without running inside it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `utime`/`stime` in /proc (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU milliseconds in the text of a /proc `stat` file. */
export function parseStatCpuMs(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`not a /proc stat line: ${stat.slice(0, 80)}`);
  }
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** The thread name in a /proc `stat` file. */
export function parseStatName(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** CPU milliseconds `pid` has used so far, all threads together. */
export function processCpuMs(pid: number): number {
  return parseStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU milliseconds of every process in `pids` together; one that ended between being listed
 * and being read (an autovacuum worker, a closed backend) counts nothing.
 */
export function processesCpuMs(pids: Iterable<number>): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += processCpuMs(pid);
    } catch {
      // Gone already.
    }
  }
  return total;
}

/**
 * CPU milliseconds of `pid`'s live threads, grouped: `main` (the JavaScript thread) and the
 * others by name. Node 20 names all its threads `node` (libuv pool, V8 platform workers,
 * inspector), so they mostly land in one group. Threads that ended are missing: diff two
 * readings taken while the same threads run.
 */
export function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // The thread ended between listing and reading.
    }
    const name = Number(tid) === pid ? 'main' : `other ${parseStatName(stat)}`;
    byName.set(name, (byName.get(name) ?? 0) + parseStatCpuMs(stat));
  }
  return byName;
}

/** `after - before` per name, names that used no CPU left out. */
export function diffByName(
  before: Map<string, number>,
  after: Map<string, number>,
): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [name, ms] of after) {
    const used = ms - (before.get(name) ?? 0);
    if (used > 0) diff.set(name, used);
  }
  return diff;
}

/**
 * BENCHMARKS.md: one summary table over every section ever measured, then one block per
 * section with when, how and on what it was measured. Each block keeps its data as JSON in an
 * HTML comment, so re-running one section rewrites its block and the table and leaves the
 * others as they were measured.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine.js';
import { type SectionResult, TABLE_HEADER, tableLines } from './report.js';

/** A section as stored: its result plus the context it was measured in. */
export interface StoredSection {
  result: SectionResult;
  machine: Machine;
  command: string;
  /** ISO time the run started. */
  date: string;
}

const BLOCK = /<!-- section-data (.*?) -->/g;

/** The sections already written in `path`, by name. */
export function readStoredSections(path: string): Map<string, StoredSection> {
  const sections = new Map<string, StoredSection>();
  if (!existsSync(path)) return sections;
  for (const match of readFileSync(path, 'utf8').matchAll(BLOCK)) {
    const stored = JSON.parse(decodeURIComponent(match[1] ?? '')) as StoredSection;
    sections.set(stored.result.name, stored);
  }
  return sections;
}

function describe(machine: Machine): string {
  return (
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ` +
    `Node ${machine.node}, ${machine.platform}`
  );
}

function sectionBlock(stored: StoredSection): string[] {
  const { result } = stored;
  const minutes = (result.durationMs / 60_000).toFixed(1);
  return [
    `## ${result.title}`,
    '',
    `Measured ${stored.date} with \`${stored.command}\` (${minutes} min) on ` +
      `${describe(stored.machine)}. Machine load at start: ${result.load.before}; ` +
      `at end: ${result.load.after}.`,
    '',
    '| metric | result | target | verdict |',
    '|---|---|---|---|',
    ...tableLines(result).map((line) => line.replace(`| ${result.name} `, '')),
    '',
    ...result.notes.map((note) => `- ${note}`),
    '',
    `<!-- section-data ${encodeURIComponent(JSON.stringify(stored))} -->`,
    '',
  ];
}

/** The hand-written reading of the numbers (profiles, causes, proposals), when there is one. */
const ANALYSIS_FILE = join(import.meta.dirname, 'ANALYSIS.md');

function analysis(): string[] {
  return existsSync(ANALYSIS_FILE) ? ['', readFileSync(ANALYSIS_FILE, 'utf8').trim(), ''] : [];
}

/** Writes the whole file from the stored sections, in `order`. */
export function writeBenchmarks(
  path: string,
  sections: Map<string, StoredSection>,
  order: string[],
  machine: Machine,
): void {
  const ordered = order.flatMap((name) => {
    const stored = sections.get(name);
    return stored === undefined ? [] : [stored];
  });
  const lines = [
    '# Parley benchmarks',
    '',
    'Produced by `npm run bench` (`bench/main.ts`); `npm run bench -- <section>` re-measures ' +
      `one section (${order.join(', ')}) and keeps the others as they were. Latencies are ` +
      'p50 / p95 (or p99 where the target says so) over the stated number of runs; ratios ' +
      'compare variants measured in the same run. The machine is a shared 2-core box: each ' +
      'section records the load (`os.loadavg`, 1 / 5 / 15 min) it ran under.',
    '',
    `Last written on: ${describe(machine)}.`,
    '',
    ...TABLE_HEADER,
    ...ordered.flatMap((stored) => tableLines(stored.result)),
    '',
    ...ordered.flatMap(sectionBlock),
    ...analysis(),
  ];
  writeFileSync(path, `${lines.join('\n').trimEnd()}\n`);
}

/** Runs `work` while holding `lockPath` (created exclusively; a stale lock expires after 60 s). */
export async function withFileLock(lockPath: string, work: () => void): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) rmSync(lockPath, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    work();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Machine } from './machine.js';
import { readStoredSections, type StoredSection, writeBenchmarks } from './markdown.js';

const machine: Machine = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 8,
  node: 'v20.0.0',
  platform: 'linux x64',
};

function stored(name: string, value: string): StoredSection {
  return {
    machine,
    command: `npm run bench -- ${name}`,
    date: '2026-01-01T00:00:00Z',
    result: {
      name,
      title: `Section ${name}`,
      rows: [{ metric: 'speed', value, target: '>= 1', met: true }],
      notes: ['a note with `code` and --> arrows'],
      load: { before: 'load 1', after: 'load 2' },
      durationMs: 60_000,
    },
  };
}

let dir = '';
afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('BENCHMARKS.md', () => {
  it('keeps sections not re-run and replaces the ones that were', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-md-'));
    const path = join(dir, 'BENCHMARKS.md');
    const order = ['a', 'b'];
    writeBenchmarks(
      path,
      new Map([
        ['a', stored('a', '1 op/s')],
        ['b', stored('b', '2 op/s')],
      ]),
      order,
      machine,
    );
    const sections = readStoredSections(path);
    sections.set('b', stored('b', '3 op/s'));
    writeBenchmarks(path, sections, order, machine);
    const text = await readFile(path, 'utf8');
    expect(text).toContain('| a | speed | 1 op/s | >= 1 | met |');
    expect(text).toContain('| b | speed | 3 op/s | >= 1 | met |');
    expect(text).not.toContain('2 op/s');
    expect(readStoredSections(path).get('a')).toEqual(stored('a', '1 op/s'));
  });

  it('reads nothing from a file that does not exist', () => {
    expect(readStoredSections('/nonexistent/BENCHMARKS.md').size).toBe(0);
  });
});

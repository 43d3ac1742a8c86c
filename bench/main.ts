/**
 * `npm run bench [-- <section>...] [--quick]`: runs the named benchmark sections (all when
 * none is named), prints one table and rewrites BENCHMARKS.md. `--quick` runs small sizes as
 * a smoke test and writes nothing; `--render` only rewrites BENCHMARKS.md from what it holds.
 */
import { join } from 'node:path';
import { DEFAULT_CONVERSATION, runConversation, runInterruptionTuning } from './conversation.js';
import { runEndOfTurn } from './end-of-turn.js';
import { DEFAULT_HNSW_BENCH, runHnswBench } from './hnsw-insert.js';
import { DEFAULT_INGEST_BENCH, runIngestBench } from './knowledge-ingest.js';
import { DEFAULT_KNOWLEDGE_SCALE, runKnowledgeScale } from './knowledge-scale.js';
import { DEFAULT_LIVEKIT_BENCH, runLiveKitBench } from './livekit.js';
import { describeMachine } from './machine.js';
import { readStoredSections, withFileLock, writeBenchmarks } from './markdown.js';
import { DEFAULT_POSTGRES_BENCH, runPostgresBench } from './postgres.js';
import { renderTable, type SectionResult } from './report.js';
import { DEFAULT_RETRIEVAL, runRetrieval } from './retrieval.js';
import { DEFAULT_SESSIONS, runSessions } from './sessions.js';
import { DEFAULT_TOKEN_ENDPOINT, runTokenEndpoint } from './token-endpoint.js';
import { DEFAULT_VAD_BENCH, runVadBench } from './vad.js';
import { DEFAULT_VOICE, runBargeIn, runVoice } from './voice.js';
import { DEFAULT_WS_CHAT, runWsChat } from './ws-chat.js';

type Runner = (quick: boolean) => Promise<SectionResult>;

const SECTIONS: Record<string, Runner> = {
  retrieval: (quick) =>
    runRetrieval(quick ? { sizes: [2_000], queries: 30, liveChunks: 200 } : DEFAULT_RETRIEVAL),
  token: (quick) =>
    runTokenEndpoint(
      quick ? { users: 50, connections: 20, durationSec: 5 } : DEFAULT_TOKEN_ENDPOINT,
    ),
  'ws-chat': (quick) =>
    runWsChat(
      quick
        ? {
            connections: 50,
            ttftMs: 250,
            phases: [
              { name: 'paced', durationSec: 10, thinkMs: 3_000 },
              { name: 'saturated', durationSec: 5, thinkMs: 0 },
            ],
          }
        : DEFAULT_WS_CHAT,
    ),
  knowledge: (quick) =>
    runKnowledgeScale(
      quick
        ? {
            liveChunks: { pglite: 100, 'pglite-main-thread': 100, postgres: 300 },
            sizes: { pglite: [1_000], 'pglite-main-thread': [], postgres: [1_000] },
            queries: 20,
            efSearch: [64, 100],
            builds: 1,
          }
        : DEFAULT_KNOWLEDGE_SCALE,
    ),
  ingest: (quick) =>
    runIngestBench(
      quick
        ? {
            ...DEFAULT_INGEST_BENCH,
            planChunks: 300,
            indexChunks: 600,
            indexes: DEFAULT_INGEST_BENCH.indexes.slice(0, 2),
            queries: 20,
          }
        : DEFAULT_INGEST_BENCH,
    ),
  hnsw: (quick) =>
    runHnswBench(
      quick
        ? { baseRows: 1_000, insertRows: 200, rowsPerStatement: 48, queries: 10, passes: 1 }
        : DEFAULT_HNSW_BENCH,
    ),
  voice: (quick) => runVoice(quick ? { turns: 2, bargeIns: 1 } : DEFAULT_VOICE),
  'barge-in': (quick) => runBargeIn(quick ? { turns: 2, bargeIns: 1 } : DEFAULT_VOICE),
  conversation: (quick) => runConversation({ ...DEFAULT_CONVERSATION, quick }),
  'end-of-turn': () => runEndOfTurn(),
  'barge-in-tuning': (quick) => runInterruptionTuning({ ...DEFAULT_CONVERSATION, quick }),
  vad: (quick) => runVadBench(quick ? { calls: 4, concurrency: 2 } : DEFAULT_VAD_BENCH),
  postgres: (quick) =>
    runPostgresBench(
      quick ? { clients: 10, durationSec: 5, poolSize: 10 } : DEFAULT_POSTGRES_BENCH,
    ),
  livekit: (quick) => runLiveKitBench(quick ? { conversations: 1 } : DEFAULT_LIVEKIT_BENCH),
  sessions: (quick) =>
    runSessions({
      ...(quick
        ? { ...DEFAULT_SESSIONS, levels: [1, 3], idleSec: 5, talkSec: 10 }
        : DEFAULT_SESSIONS),
      // --sessions-profile=FILE: a CPU profile of the server while the most calls converse.
      profilePath: process.argv.find((a) => a.startsWith('--sessions-profile='))?.split('=')[1],
    }),
};

const BENCHMARKS_FILE = join(import.meta.dirname, '..', 'BENCHMARKS.md');

function parseArgs(argv: string[]): { names: string[]; quick: boolean } {
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown section ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`,
    );
  }
  return { names: names.length > 0 ? names : Object.keys(SECTIONS), quick };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  if (process.argv.includes('--render')) {
    // Rewrite the file from what it holds (after editing bench/ANALYSIS.md), measuring nothing.
    await withFileLock(`${BENCHMARKS_FILE}.lock`, () => {
      const stored = readStoredSections(BENCHMARKS_FILE);
      writeBenchmarks(BENCHMARKS_FILE, stored, Object.keys(SECTIONS), machine);
    });
    return;
  }
  const { names, quick } = parseArgs(process.argv.slice(2));
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const results: SectionResult[] = [];
  for (const name of names) {
    const run = SECTIONS[name];
    if (run === undefined) continue;
    process.stderr.write(`bench: running ${name}${quick ? ' (quick)' : ''}...\n`);
    results.push(await run(quick));
  }
  process.stdout.write(`${renderTable(results)}\n`);
  for (const result of results) {
    process.stdout.write(`${result.name}: ${result.load.before} -> ${result.load.after}\n`);
  }
  if (quick) return;
  // Two runs of different sections may finish together: read, merge and write under a lock.
  await withFileLock(`${BENCHMARKS_FILE}.lock`, () => {
    const stored = readStoredSections(BENCHMARKS_FILE);
    for (const result of results) stored.set(result.name, { result, machine, command, date });
    writeBenchmarks(BENCHMARKS_FILE, stored, Object.keys(SECTIONS), machine);
  });
  process.stdout.write(`Wrote ${BENCHMARKS_FILE}\n`);
}

await main();
// PGlite, workers and HTTP agents may keep handles; the benchmark is done.
process.exit(0);

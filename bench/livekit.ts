/**
 * `npm run bench -- livekit`: the agent worker (`npm run agent`, its own process, forking job
 * processes as in production) dispatched into rooms of the test LiveKit server, one rtc-node
 * participant per room. Reports the job start time (dispatch → first loud frame of the
 * greeting at the participant), the memory of each job process while every conversation is
 * live, beside agents' own anchor of ~300 MB a job, and the database connections each holds.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioStream, type RemoteTrack, Room, RoomEvent, TrackKind } from '@livekit/rtc-node';
import { openDatabase } from '../db/client.js';
import { makeConversation } from '../tests/helpers/fixtures.js';
import { type LiveKitStack, startLiveKitStack } from '../tests/livekit/livekit-stack.js';
import { createRoomToken } from '../token-service/room-tokens/room-token.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { summarize } from './stats.js';

export interface LiveKitBenchOptions {
  /** Rooms joined one after another; all stay in conversation until the memory is read. */
  conversations: number;
}

export const DEFAULT_LIVEKIT_BENCH: LiveKitBenchOptions = { conversations: 3 };

/** agents' documented sizing: about 300 MB of memory per job (one conversation). */
const ANCHOR_MB = 300;

export async function runLiveKitBench(options: LiveKitBenchOptions): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const templateDir = await migratedTemplate();
  // The production pool size: a job process caps it (JOB_DATABASE_POOL_SIZE); the stack's
  // default of 1 would hide whether the cap works.
  const stack = await startLiveKitStack({
    agentName: 'parley-bench',
    databaseTemplateDir: templateDir,
    worker: { DATABASE_POOL_SIZE: '10' },
  });
  const rooms: Room[] = [];
  try {
    const workerPid = stack.worker.child.pid ?? 0;
    const idle = jobProcesses(workerPid).map(memoryOf);
    const startsMs: number[] = [];
    for (let i = 0; i < options.conversations; i++) {
      const { room, startMs } = await joinAndHearGreeting(stack);
      rooms.push(room);
      startsMs.push(startMs);
    }
    const databasePort = Number(new URL(stack.databaseUrl).port);
    const jobs = jobProcesses(workerPid).map(memoryOf);
    const connections = jobProcesses(workerPid).map((pid) => connectionsTo(pid, databasePort));
    return {
      name: 'livekit',
      title: 'LiveKit job processes: start time, memory, database connections',
      rows: [
        ...rows(startsMs, idle, jobs, options.conversations),
        {
          metric: 'database connections per job process (most)',
          value: String(Math.max(...connections)),
          target: '≤ 2',
          met: Math.max(...connections) <= 2,
        },
      ],
      notes: notes(options, idle.length, jobs.length),
      load: { before, after: describeLoad() },
      durationMs: performance.now() - started,
    };
  } finally {
    for (const room of rooms) await room.disconnect().catch(() => undefined);
    await stack.close();
    await rm(templateDir, { recursive: true, force: true });
  }
}

/** A migrated embedded database to copy (the test suite's template exists only in vitest). */
async function migratedTemplate(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bench-lk-template-'));
  const handle = await openDatabase({ dataDir: dir });
  await handle.migrate();
  await handle.close();
  return dir;
}

/**
 * Open TCP connections from `pid` to `port` on 127.0.0.1: the process's socket inodes
 * (/proc/PID/fd) matched against the kernel's TCP table, so it counts what the process
 * really holds, whatever its pool settings say.
 */
function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
    const inode = /^socket:\[(\d+)\]$/.exec(target ?? '')?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const ESTABLISHED = '01';
  return readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2]?.endsWith(`:${portHex}`) && f[3] === ESTABLISHED && inodes.has(f[9] ?? ''))
    .length;
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined; // the descriptor closed while listing
  }
}

/** A new user's room joined by an rtc-node participant; resolves at the greeting's first sound. */
async function joinAndHearGreeting(stack: LiveKitStack): Promise<{ room: Room; startMs: number }> {
  const { user, room: chatRoom } = await makeConversation(stack.database.db);
  const { url, apiKey, apiSecret } = stack.livekit;
  const token = createRoomToken(
    { url, apiKey, apiSecret, agentName: stack.agentName, tokenTtlMs: 600_000 },
    { userId: user.id, chatRoom, participantName: 'Bench' },
  );
  const room = new Room();
  const agentAudio = new Promise<RemoteTrack>((resolve) => {
    room.on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind === TrackKind.KIND_AUDIO) resolve(track);
    });
  });
  const known = stack.server.dispatches.length;
  // The server dispatches the agent while it admits the first participant: watch for it.
  const dispatched = stack.server.waitUntil(
    () => (stack.server.dispatches.length > known ? performance.now() : undefined),
    'the dispatch',
  );
  await room.connect(url, token.participantToken, { autoSubscribe: true, dynacast: false });
  const dispatchedAt = await dispatched;
  await firstLoudFrame(await agentAudio);
  return { room, startMs: performance.now() - dispatchedAt };
}

async function firstLoudFrame(track: RemoteTrack): Promise<void> {
  const reader = new AudioStream(track, 24_000, 1).getReader();
  try {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) throw new Error('the agent track ended before any sound');
      if (frame.data.some((sample) => Math.abs(sample) > 1000)) return;
    }
  } finally {
    reader.releaseLock();
  }
}

interface ProcessMemory {
  pid: number;
  rssMb: number;
  /** Proportional set size: shared pages split among the processes sharing them. */
  pssMb: number;
}

/** The worker's job processes (agents forks them from `job_proc_lazy_main`). */
function jobProcesses(workerPid: number): number[] {
  const children = readFileSync(`/proc/${workerPid}/task/${workerPid}/children`, 'utf8');
  return children
    .split(' ')
    .filter((pid) => pid !== '')
    .map(Number)
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('job_proc'));
}

function memoryOf(pid: number): ProcessMemory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1]);
  return { pid, rssMb: kb('Rss') / 1024, pssMb: kb('Pss') / 1024 };
}

const mb = (value: number) => `${value.toFixed(0)} MB`;

function rows(
  startsMs: number[],
  idle: ProcessMemory[],
  jobs: ProcessMemory[],
  conversations: number,
): ResultRow[] {
  const starts = summarize(startsMs);
  // The pool hands its idle processes to jobs and forks new idle ones: the largest are in use.
  const busy = [...jobs].sort((a, b) => b.pssMb - a.pssMb).slice(0, conversations);
  const maxPss = Math.max(...busy.map((p) => p.pssMb));
  const idleRss = idle.map((p) => p.rssMb);
  return [
    {
      metric: 'job start, dispatch → first greeting audio (median / max)',
      value: `${(starts.p50 / 1000).toFixed(1)} s / ${(starts.max / 1000).toFixed(1)} s`,
    },
    {
      metric: `job process in a conversation, PSS (most of ${busy.length})`,
      value: mb(maxPss),
      target: `≤ ${ANCHOR_MB} MB (agents' anchor)`,
      met: maxPss <= ANCHOR_MB,
    },
    {
      metric: 'job process in a conversation, RSS (least / most)',
      value: `${mb(Math.min(...busy.map((p) => p.rssMb)))} / ${mb(Math.max(...busy.map((p) => p.rssMb)))}`,
    },
    {
      metric: 'idle pre-started job process, RSS',
      value: idleRss.length > 0 ? mb(Math.max(...idleRss)) : 'none started',
    },
  ];
}

function notes(options: LiveKitBenchOptions, idle: number, total: number): string[] {
  return [
    `${options.conversations} rtc-node participants join their own rooms one after another on the test LiveKit server (tests/livekit/); each room's first participant dispatches the worker, as LiveKit does. Start time: from the dispatch to the first loud 10 ms frame of the greeting received by the participant (includes the job process taking the job, joining the room, the greeting's LLM request to the OpenAI emulator and synthesis by the Cartesia emulator, both answering at once).`,
    `Database connections: each job process's established TCP connections to the PostgreSQL wire port (PGlite served over the wire), from /proc/PID/fd and /proc/PID/net/tcp, read with every conversation live; the worker runs with DATABASE_POOL_SIZE=10, the production default, which a job process caps at JOB_DATABASE_POOL_SIZE (2).`,
    `Memory read from /proc/PID/smaps_rollup of the worker's job processes with every conversation still live: ${total} job processes, ${idle} of them pre-started before the first room. PSS splits shared pages (Node's binary, the native WebRTC and inference libraries) among processes; RSS counts them in full for each. Job processes run TypeScript through tsx, as \`npm run agent\` does.`,
    "agents' anchor (LiveKit's deployment guide): plan ~300 MB of memory per concurrent job.",
    "The machine is shared with other engineers' work: start times are wall-clock and stretch under load.",
  ];
}

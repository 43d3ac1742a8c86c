/**
 * Issue 7 item 6: voice sessions per core on the direct WebRTC path. The real app runs in a
 * process of its own (bench/sessions-server.ts), the providers in another at fixed latencies
 * (bench/voice-providers.ts), and werift callers in load processes (bench/sessions-callers.ts)
 * call it over `POST /api/rtc/offer`. The number of calls is raised step by step; at each step
 * the server's CPU time is read from /proc over a window where every caller only listens
 * (microphone open on a quiet room: VAD and decoding run) and one where they all converse.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeLoad } from './machine.js';
import { diffByName, processCpuMs, threadCpuMs } from './proc-cpu.js';
import type { SectionResult } from './report.js';
import { type CallerProcess, startCallerProcess, type Turn } from './sessions-callers.js';
import {
  type Baseline,
  healthy,
  latencies,
  retainedRow,
  type Step,
  sessionRows,
  threadLine,
} from './sessions-report.js';
import { type RemoteServer, startSessionsServer } from './sessions-server.js';
import { fmt } from './stats.js';
import { startVoiceProviders } from './voice-providers.js';

export interface SessionsOptions {
  /** Calls held at each step, rising. */
  levels: number[];
  /** Length of each step's listening window and conversation window. */
  idleSec: number;
  talkSec: number;
  /** Quiet time between a reply's end and the caller's next question. */
  pauseMs: number;
  callersPerProcess: number;
  /** Write a CPU profile of the server's conversation window at the last step here. */
  profilePath?: string | undefined;
}

export const DEFAULT_SESSIONS: SessionsOptions = {
  levels: [1, 5, 10, 15, 20],
  idleSec: 15,
  talkSec: 30,
  pauseMs: 2_000,
  callersPerProcess: 10,
};

/** Issue 7's target. */
const LATENCY = { sttMs: 150, llmTtftMs: 250, ttsTtfbMs: 100 };
const QUESTION = 'What is the capital of France?';
const ANSWER = 'The capital of France is Paris, on the river Seine.';
/** About one question-and-answer cycle: the callers' first questions are spread over it. */
const CYCLE_MS = 7_000;

interface Rig {
  server: RemoteServer;
  providersPid: number;
  loads: CallerProcess[];
}

/** Runs the section: baseline with no calls, then each level in turn. */
export async function runSessions(options = DEFAULT_SESSIONS): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const providers = await startVoiceProviders({ question: QUESTION, answer: ANSWER, ...LATENCY });
  const server = await startSessionsServer({
    LOG_LEVEL: 'silent',
    OPENAI_BASE_URL: providers.openaiBaseUrl,
    OPENAI_API_KEY: 'bench-key',
    CARTESIA_BASE_URL: providers.cartesiaBaseUrl,
    CARTESIA_API_KEY: 'bench-key',
    PROVIDER_MAX_RETRIES: '0',
    RATE_LIMIT_PER_MINUTE: '100000',
    // The bench goes past what one process holds, to find where it stops keeping up.
    DIRECT_MAX_CALLS: '100',
  });
  const rig: Rig = { server, providersPid: providers.pid, loads: [] };
  try {
    const baseline = await measureBaseline(rig, options);
    const steps: Step[] = [];
    for (const [i, calls] of options.levels.entries()) {
      const last = i === options.levels.length - 1;
      steps.push(await measureStep(rig, calls, options, { warmUp: i === 0, profile: last }));
      report(steps.at(-1));
    }
    await Promise.all(rig.loads.map((load) => load.hangUp()));
    // Every call over: what the server still holds for calls that are gone.
    await sleep(3_000);
    const after = await server.usage();
    return {
      name: 'sessions',
      title: 'Voice sessions per core (direct WebRTC, real app, emulated providers)',
      rows: [...sessionRows(baseline, steps), retainedRow(baseline, after, steps)],
      notes: sessionNotes(options, baseline, steps),
      load: { before, after: describeLoad() },
      durationMs: performance.now() - started,
    };
  } finally {
    await Promise.allSettled(rig.loads.map((load) => load.close()));
    await server.close();
    await providers.close();
  }
}

async function measureBaseline(rig: Rig, options: SessionsOptions): Promise<Baseline> {
  await sleep(2_000);
  const memory = await rig.server.usage();
  const cpu = await cpuOver(rig.server.pid, options.idleSec * 1000);
  process.stderr.write(`bench: sessions: no calls: ${fmt(cpu)} ms CPU/s\n`);
  return { cpu, memory };
}

/** CPU milliseconds per second `pid` used over the next `ms`. */
async function cpuOver(pid: number, ms: number): Promise<number> {
  const before = processCpuMs(pid);
  const from = performance.now();
  await sleep(ms);
  return ((processCpuMs(pid) - before) * 1000) / (performance.now() - from);
}

async function addCallers(rig: Rig, total: number, perProcess: number): Promise<void> {
  let missing = total - rig.loads.reduce((n, load) => n + load.callers, 0);
  while (missing > 0) {
    let load = rig.loads.find((l) => l.callers < perProcess);
    if (load === undefined) {
      load = await startCallerProcess(QUESTION);
      rig.loads.push(load);
    }
    const count = Math.min(missing, perProcess - load.callers);
    await load.connect(rig.server.baseUrl, count);
    missing -= count;
  }
}

async function measureStep(
  rig: Rig,
  calls: number,
  options: SessionsOptions,
  flags: { warmUp: boolean; profile: boolean },
): Promise<Step> {
  await addCallers(rig, calls, options.callersPerProcess);
  await Promise.all(rig.loads.map((load) => load.settle()));
  if (flags.warmUp) {
    // One exchange each first: code paths compiled and connections to the providers open.
    await talk(rig, { offsetsFor: () => [], durationMs: 100, pauseMs: 0 });
    await Promise.all(rig.loads.map((load) => load.settle()));
  }
  const memory = await rig.server.usage();
  const idleCpu = await cpuOver(rig.server.pid, options.idleSec * 1000);
  const staggerMs = CYCLE_MS;
  const conversation = talk(rig, {
    offsetsFor: spreadOffsets(calls, staggerMs),
    durationMs: staggerMs + options.talkSec * 1000,
    pauseMs: options.pauseMs,
  });
  await sleep(staggerMs);
  const window = await cpuWindow(rig, options.talkSec * 1000, flags.profile && options.profilePath);
  const turns = await conversation;
  const talkUsage = await rig.server.usage();
  await Promise.all(rig.loads.map((load) => load.settle()));
  return { calls, idleCpu, memory, talkUsage, turns, ...window };
}

/** First-question offsets: the calls' conversations spread evenly over one cycle. */
function spreadOffsets(calls: number, spanMs: number) {
  return (processIndex: number, perProcess: number, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const global = processIndex * perProcess + i;
      return (global * spanMs) / calls;
    });
}

async function talk(
  rig: Rig,
  plan: {
    offsetsFor: (processIndex: number, perProcess: number, count: number) => number[];
    durationMs: number;
    pauseMs: number;
  },
): Promise<Turn[]> {
  const perProcess = Math.max(...rig.loads.map((load) => load.callers));
  const turns = await Promise.all(
    rig.loads.map((load, k) =>
      load.talk({
        offsetsMs: plan.offsetsFor(k, perProcess, load.callers),
        durationMs: plan.durationMs,
        pauseMs: plan.pauseMs,
      }),
    ),
  );
  return turns.flat();
}

/** Server CPU (in all and per thread), load and provider CPU over a conversation window. */
async function cpuWindow(rig: Rig, ms: number, profilePath: string | false | undefined) {
  const pids = rig.loads.map((load) => load.pid);
  const loadBefore = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const providersBefore = processCpuMs(rig.providersPid);
  const threadsBefore = threadCpuMs(rig.server.pid);
  if (profilePath) await rig.server.startProfile();
  const from = performance.now();
  const serverBefore = processCpuMs(rig.server.pid);
  await sleep(ms);
  const serverUsed = processCpuMs(rig.server.pid) - serverBefore;
  const seconds = (performance.now() - from) / 1000;
  if (profilePath) await rig.server.stopProfile(profilePath);
  const threads = diffByName(threadsBefore, threadCpuMs(rig.server.pid));
  for (const [name, used] of threads) threads.set(name, used / seconds);
  const loadUsed = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0) - loadBefore;
  return {
    talkCpu: serverUsed / seconds,
    threads,
    loadCpu: loadUsed / seconds,
    providersCpu: (processCpuMs(rig.providersPid) - providersBefore) / seconds,
  };
}

function report(step: Step | undefined): void {
  if (step === undefined) return;
  process.stderr.write(
    `bench: sessions: ${step.calls} calls: listening ${fmt(step.idleCpu)} ms CPU/s, ` +
      `talking ${fmt(step.talkCpu)} ms CPU/s, ${latencies(step.turns).length}/` +
      `${step.turns.length} answered, ${step.talkUsage.calls} calls up, ` +
      `rss ${fmt(step.memory.rss / 2 ** 20)} MiB${healthy(step) ? '' : ' (did not keep up)'}\n`,
  );
}

function sessionNotes(options: SessionsOptions, baseline: Baseline, steps: Step[]): string[] {
  const top = steps.at(-1);
  const notes = [
    'The server is the real app (`composeParley`: HTTP API, embedded issuer, direct WebRTC ' +
      'calls, Silero VAD, the OpenAI STT/LLM and Cartesia TTS plugins, transcripts stored in ' +
      'embedded PGlite) in its own process; its CPU is user + system time of all its threads ' +
      `from /proc/<pid>/stat, per second of wall clock. "Per call" subtracts the ${fmt(baseline.cpu)} ` +
      'ms/s it spends with no calls and divides by the calls held. Sessions per core = 1000 / ' +
      'per-call CPU while conversing.',
    `Callers: werift peers in ${top === undefined ? 0 : Math.ceil(top.calls / options.callersPerProcess)} ` +
      'load processes, each calling `POST /api/rtc/offer` as a new user with its own character ' +
      'and room, camera off. Every caller sends a 20 ms Opus packet every 20 ms for the whole ' +
      'call (faint noise between questions, as an open microphone), and decodes every reply ' +
      `packet it receives. Conversing, each asks "${QUESTION}" (flite), waits for the whole ` +
      `reply ("${ANSWER}"), pauses ${options.pauseMs} ms and asks again; first questions are ` +
      `spread over ${CYCLE_MS / 1000} s. Listening: ${options.idleSec} s with only the noise; ` +
      `conversing: ${options.talkSec} s measured after all callers have started.`,
    'A step where fewer than 90% of questions were answered or a call dropped "did not keep ' +
      'up": the server then does less than its calls need (this machine is shared; other ' +
      'work takes CPU), so sessions per core is taken from the largest step that kept up.',
    `Providers in another process at fixed latencies: Whisper ${LATENCY.sttMs} ms, LLM first ` +
      `token ${LATENCY.llmTtftMs} ms, Cartesia first byte ${LATENCY.ttsTtfbMs} ms (speaking with ` +
      'flite). Reply latency is measured by the caller from the last packet of its question to ' +
      "the first reply packet, so it includes the VAD's 550 ms end-of-speech silence and the " +
      'endpointing delay; compare it across call counts, not with the voice section.',
  ];
  if (top !== undefined) {
    notes.push(
      `Server CPU per thread while ${top.calls} calls converse (ms/s): ${threadLine(top)}. ` +
        `Load processes used ${fmt(top.loadCpu)} ms/s and the providers ${fmt(top.providersCpu)} ` +
        'ms/s on the same 2 cores.',
    );
  }
  return notes;
}

/**
 * A load-generator process for the sessions benchmark: werift peers calling Parley over
 * `POST /api/rtc/offer` as the web page does (tests/e2e/werift-caller.ts), each with an open
 * microphone (bench/sessions-mic.ts) and each decoding the reply audio it receives. Driven
 * over IPC by bench/sessions.ts: connect more callers, settle, talk for a while, hang up.
 */
import type { ChildProcess } from 'node:child_process';
import { FrameClock } from '../agent/transports/webrtc/frame-clock.js';
import { createCharacter, devSession } from '../tests/e2e/direct-app.js';
import { type Caller, call } from '../tests/e2e/werift-caller.js';
import { forkModule, isBenchChild, nextMessage, stopChild } from './child.js';
import { type EncodedAudio, encodeAudio, PacketMic } from './sessions-mic.js';

/** One question asked during a talk phase and what came back. */
export interface Turn {
  /** End of the question's audio -> first reply packet, or undefined when none came. */
  latencyMs: number | undefined;
  /** How long the reply audio lasted. */
  replyMs: number;
}

export interface TalkPlan {
  /** When each of this process's callers asks its first question, from the phase start. */
  offsetsMs: number[];
  /** No question starts after this. */
  durationMs: number;
  /** Quiet time after a reply ends before the next question. */
  pauseMs: number;
}

type Request =
  | { type: 'prepare'; question: string }
  | { type: 'connect'; baseUrl: string; count: number }
  | { type: 'settle' }
  | ({ type: 'talk' } & TalkPlan)
  | { type: 'hangup' };

/** A load process as the benchmark drives it. */
export interface CallerProcess {
  pid: number;
  callers: number;
  connect(baseUrl: string, count: number): Promise<void>;
  settle(): Promise<void>;
  talk(plan: TalkPlan): Promise<Turn[]>;
  hangUp(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a load process whose callers will ask `question`. */
export async function startCallerProcess(question: string): Promise<CallerProcess> {
  const child: ChildProcess = forkModule(import.meta.url);
  const ask = async <T>(request: Request, reply: string): Promise<T> => {
    const answer = nextMessage<T>(child, (m) => (m as { type?: string }).type === reply);
    child.send(request);
    return answer;
  };
  await ask({ type: 'prepare', question }, 'prepared');
  const load = {
    pid: child.pid ?? 0,
    callers: 0,
    async connect(baseUrl: string, count: number) {
      await ask({ type: 'connect', baseUrl, count }, 'connected');
      load.callers += count;
    },
    settle: () => ask<void>({ type: 'settle' }, 'settled'),
    async talk(plan: TalkPlan) {
      return (await ask<{ turns: Turn[] }>({ type: 'talk', ...plan }, 'talked')).turns;
    },
    async hangUp() {
      await ask({ type: 'hangup' }, 'hungup');
      load.callers = 0;
    },
    close: () => stopChild(child),
  };
  return load;
}

/** Longest wait for a reply to start after the question ended. */
const REPLY_LIMIT_MS = 15_000;
/** No reply audio for this long after some arrived: the reply is over. */
const REPLY_GAP_MS = 500;
const POLL_MS = 20;

interface Line {
  caller: Caller;
  mic: PacketMic;
}

const lines: Line[] = [];
let audio: EncodedAudio | undefined;
// One clock sends every caller's next packet: a timer per caller would only add jitter.
const clock = new FrameClock(20, () => {
  for (const line of lines) line.mic.tick();
  return true;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connect(baseUrl: string, count: number): Promise<void> {
  if (audio === undefined) throw new Error('prepare first');
  for (let i = 0; i < count; i++) {
    const { token } = await devSession(baseUrl);
    const characterId = await createCharacter(baseUrl, token, `Guide ${lines.length}`);
    const caller = await callWithRetries(baseUrl, token, `character_id=${characterId}`);
    lines.push({ caller, mic: new PacketMic(caller.browser.audio.sender, audio) });
    clock.start();
  }
}

/** Connection attempts per call: on a busy machine a DTLS handshake now and then times out. */
const CALL_ATTEMPTS = 3;

async function callWithRetries(baseUrl: string, token: string, query: string): Promise<Caller> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(baseUrl, token, query);
    } catch (error) {
      if (attempt >= CALL_ATTEMPTS) throw error;
      process.stderr.write(`bench: sessions: call attempt ${attempt} failed (${String(error)})\n`);
    }
  }
}

/** Forgets what a caller heard so far (the benchmark runs for minutes). */
function forgetHeard(caller: Caller): void {
  caller.browser.heard.length = 0;
  caller.browser.received.length = 0;
  caller.browser.arrivals.length = 0;
  caller.browser.messages.length = 0;
}

/** Waits until no caller has received audio for a second (greetings or replies played out). */
async function settle(): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const lastHeard = Math.max(0, ...lines.map((l) => l.caller.browser.arrivals.at(-1) ?? 0));
    if (performance.now() - lastHeard > 1_000 || performance.now() > deadline) break;
    await sleep(100);
  }
  for (const line of lines) forgetHeard(line.caller);
}

/** Waits for the reply to a question that ended at `spokenAt`, then for its end. */
async function reply(caller: Caller, spokenAt: number): Promise<Turn> {
  const arrivals = caller.browser.arrivals;
  for (;;) {
    await sleep(POLL_MS);
    const now = performance.now();
    const first = arrivals.find((at) => at > spokenAt);
    if (first === undefined) {
      if (now - spokenAt > REPLY_LIMIT_MS) return { latencyMs: undefined, replyMs: 0 };
      continue;
    }
    const last = arrivals.at(-1) ?? first;
    if (now - last > REPLY_GAP_MS) return { latencyMs: first - spokenAt, replyMs: last - first };
  }
}

async function converse(line: Line, offsetMs: number, endAt: number, pauseMs: number) {
  const turns: Turn[] = [];
  await sleep(offsetMs);
  while (performance.now() < endAt) {
    forgetHeard(line.caller);
    const spokenAt = await line.mic.say();
    turns.push(await reply(line.caller, spokenAt));
    await sleep(pauseMs);
  }
  return turns;
}

async function talk(plan: TalkPlan): Promise<Turn[]> {
  const endAt = performance.now() + plan.durationMs;
  const perLine = await Promise.all(
    lines.map((line, i) => converse(line, plan.offsetsMs[i] ?? 0, endAt, plan.pauseMs)),
  );
  return perLine.flat();
}

async function hangUp(): Promise<void> {
  const ending = lines.splice(0);
  await Promise.allSettled(ending.map((line) => line.caller.hangUp()));
  if (lines.length === 0) clock.stop();
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'prepare') {
    audio = await encodeAudio(request.question);
    process.send?.({ type: 'prepared' });
  } else if (request.type === 'connect') {
    await connect(request.baseUrl, request.count);
    process.send?.({ type: 'connected' });
  } else if (request.type === 'settle') {
    await settle();
    process.send?.({ type: 'settled' });
  } else if (request.type === 'talk') {
    process.send?.({ type: 'talked', turns: await talk(request) });
  } else {
    await hangUp();
    process.send?.({ type: 'hungup' });
  }
}

if (isBenchChild()) {
  process.on('message', (request) => {
    handle(request as Request).catch((error: unknown) => {
      process.stderr.write(`bench: sessions caller: ${String(error)}\n`);
      process.exit(1);
    });
  });
}

/**
 * Issue 7 item 4: `POST /api/token` under concurrent load. Each request carries one of a pool
 * of Supabase-style ES256 user tokens, verified against the fake project's JWKS; the route
 * finds the caller's room with a public character and signs a LiveKit token with agent
 * dispatch. `GET /health` on the same server, in the same run, is the floor: what Fastify
 * and the machine cost with no auth, database or signing.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AutocannonResult } from 'autocannon';
import { startOpenAIEmulator } from '../tests/dev-tools/providers/openai-emulator.js';
import {
  createAccessTokenVerifier,
  supabaseVerifierOptions,
} from '../token-service/auth/verifier.js';
import { type LoadPlan, runLoad } from './load-worker.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { type BenchServer, startBenchServer } from './server.js';
import { fmt } from './stats.js';

export interface TokenEndpointOptions {
  users: number;
  connections: number;
  durationSec: number;
}

/**
 * 10 connections keep the server's one event loop busy without a queue of autocannon's own
 * making: in a closed loop the mean latency is connections / throughput (Little's law), so at
 * 50 connections and 1,500 req/s every request would wait 33 ms whatever the server did.
 */
export const DEFAULT_TOKEN_ENDPOINT: TokenEndpointOptions = {
  users: 500,
  connections: 10,
  durationSec: 20,
};

/** Fresh tokens whose first full check is timed apart from the load. */
const FIRST_USE_TOKENS = 200;

/** High enough that no bench caller is ever limited (the default is 60 a minute per user). */
const BENCH_RATE_LIMIT = '100000000';

/** Every user calls once first, so the timed run sees returning users (profile and room exist). */
async function warmUp(server: BenchServer, tokens: string[], body: string): Promise<void> {
  for (const token of tokens) {
    const response = await fetch(`http://${server.host}/api/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    if (response.status !== 201) throw new Error(`warm-up got ${response.status}`);
  }
}

/**
 * CPU of the full ES256 check a token gets the first time it is seen (later requests with it
 * are answered from the verifier's memory): a verifier like the app's, with that memory off,
 * checking tokens it has never seen, one after another.
 */
async function firstUseVerifyMs(server: BenchServer, count: number): Promise<number> {
  const verifier = createAccessTokenVerifier({
    ...supabaseVerifierOptions({
      supabaseUrl: server.supabase.url,
      jwksCacheMs: server.config.auth.jwksCacheMs,
    }),
    verifiedCacheMs: 0,
  });
  const tokens = await Promise.all(
    Array.from({ length: count + 1 }, () => server.supabase.signAccessToken({ sub: randomUUID() })),
  );
  await verifier.verify(tokens.pop() ?? ''); // fetches the key set
  const before = process.cpuUsage();
  for (const token of tokens) await verifier.verify(token);
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000 / count;
}

interface MeasuredLoad {
  result: AutocannonResult;
  rate: number;
  /** CPU the server process (app, PGlite, JWKS cache) spent per request. */
  cpuMsPerRequest: number;
  /** The server's event-loop delay p99 during the run, ms. */
  loopDelayP99Ms: number;
}

/** Runs a load plan and counts what the server process spent on it. */
async function measuredLoad(plan: LoadPlan): Promise<MeasuredLoad> {
  const cpuBefore = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const result = await runLoad(plan);
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const total = Math.max(1, result.requests.total);
  return {
    result,
    rate: result.requests.total / result.duration,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / total,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

function tokenRows(
  options: TokenEndpointOptions,
  token: MeasuredLoad,
  floor: MeasuredLoad,
  verifyMs: number,
): ResultRow[] {
  const { latency, non2xx, errors, timeouts, requests } = token.result;
  return [
    {
      metric: `POST /api/token throughput (${options.connections} connections, ${options.durationSec} s)`,
      value: `${fmt(token.rate)} req/s`,
      target: '>= 1,500 req/s',
      met: token.rate >= 1500,
    },
    {
      metric: 'POST /api/token latency p50 / p99',
      value: `${fmt(latency.p50)} / ${fmt(latency.p99)} ms`,
      target: 'p99 <= 30 ms',
      met: latency.p99 <= 30,
    },
    {
      metric: 'POST /api/token non-201 responses, errors, timeouts',
      value: `${non2xx}, ${errors}, ${timeouts} of ${requests.total}`,
      target: '0',
      met: non2xx + errors + timeouts === 0,
    },
    {
      metric: 'POST /api/token server CPU per request',
      value: `${fmt(token.cpuMsPerRequest, 3)} ms = at most ${fmt(1000 / token.cpuMsPerRequest)} req/s per core`,
    },
    {
      metric: "a session's first request: full ES256 check of a token not seen before, CPU",
      value: `+${fmt(verifyMs, 3)} ms (measured apart, ${FIRST_USE_TOKENS} tokens)`,
    },
    {
      metric: 'server event-loop delay p99 during the token run',
      value: `${fmt(token.loopDelayP99Ms)} ms`,
    },
    {
      metric: 'GET /health floor, same server, same run',
      value:
        `${fmt(floor.rate)} req/s, p99 ${fmt(floor.result.latency.p99)} ms, ` +
        `${fmt(floor.cpuMsPerRequest, 3)} ms CPU/request`,
    },
    {
      metric: 'token endpoint / floor: throughput, CPU per request',
      value: `${fmt(token.rate / floor.rate, 3)}, ${fmt(token.cpuMsPerRequest / floor.cpuMsPerRequest)}x`,
    },
  ];
}

/** Runs the token endpoint section. */
export async function runTokenEndpoint(options = DEFAULT_TOKEN_ENDPOINT): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const emulator = await startOpenAIEmulator();
  const server = await startBenchServer({
    openaiBaseUrl: emulator.baseURL,
    env: { RATE_LIMIT_PER_MINUTE: BENCH_RATE_LIMIT },
  });
  try {
    const characterId = await server.createPublicCharacter();
    const tokens = await Promise.all(
      Array.from({ length: options.users }, () =>
        server.supabase.signAccessToken({ sub: randomUUID() }),
      ),
    );
    const body = JSON.stringify({ character_id: characterId });
    await warmUp(server, tokens, body);
    const common = {
      url: `http://${server.host}`,
      connections: options.connections,
      durationSec: options.durationSec,
    };
    const floor = await measuredLoad({ ...common, method: 'GET', path: '/health', tokens: [] });
    const token = await measuredLoad({
      ...common,
      method: 'POST',
      path: '/api/token',
      body,
      tokens,
    });
    const verifyMs = await firstUseVerifyMs(server, FIRST_USE_TOKENS);
    const rows = tokenRows(options, token, floor, verifyMs);
    return {
      name: 'token',
      title: 'Token endpoint (Fastify, ES256 JWKS auth, LiveKit token signing)',
      rows,
      notes: tokenNotes(options),
      load: { before, after: describeLoad() },
      durationMs: performance.now() - started,
    };
  } finally {
    await server.close();
    await emulator.close();
  }
}

function tokenNotes(options: TokenEndpointOptions): string[] {
  return [
    `${options.users} users with Supabase-style ES256 access tokens (fake project, JWKS over ` +
      'HTTP on 127.0.0.1, fetched once and cached as in production); each request uses the ' +
      'next token of the pool. Body: `{"character_id": <public character>}`.',
    'As in production, the verifier remembers a fully checked token for min(exp, 60 s) and the ' +
      "endpoint remembers each caller's room and name and the character's visibility (5 s), so " +
      'the timed run is the steady state of clients that reuse their access token: no query, ' +
      'no ES256 check. What a never-seen token adds is measured apart (row above).',
    `${options.connections} keep-alive connections: enough to keep the server's one event loop ` +
      'busy; more only lengthen the queue autocannon builds itself (closed loop: mean latency = ' +
      'connections / throughput).',
    `RATE_LIMIT_PER_MINUTE raised to ${BENCH_RATE_LIMIT} for this run (default 60 per user ` +
      'per minute); the limiter still runs on every request.',
    'Every user called once before the timed run, so profiles and rooms exist (returning users).',
    'autocannon 8 in a child process, HTTP/1.1 keep-alive, no pipelining; the server and the ' +
      'load generator share the 2 cores (and the machine with other work: see the load). ' +
      "CPU per request is the server process's CPU time over the run divided by the " +
      'requests answered; the server is one event loop with PGlite on it, so 1000 / that ' +
      'figure is its ceiling on one core. It is lowest at saturation (one wake-up serves ' +
      'several requests) and rises when the machine is contended.',
    'Embedded PGlite is the database (the default install); LiveKit credentials are fake and ' +
      'only used to sign.',
  ];
}

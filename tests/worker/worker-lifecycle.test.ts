import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTemplate, freePort, serveOverWire, type WireServer } from '../helpers/database.js';
import { type FakeLiveKitServer, startFakeLiveKitServer } from '../livekit/fake-livekit-server.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

const apiKey = 'lifecycle-test-key';
const apiSecret = 'lifecycle-test-secret-long-enough-for-hs256';
const agentName = 'parley-lifecycle-test';

let server: FakeLiveKitServer;
let dataDir: string;
let wire: WireServer;
const started: WorkerProcess[] = [];

function workerEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    LIVEKIT_URL: server.url,
    LIVEKIT_API_KEY: apiKey,
    LIVEKIT_API_SECRET: apiSecret,
    LIVEKIT_AGENT_NAME: agentName,
    DATABASE_URL: wire.url,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

function start(env: Record<string, string>): WorkerProcess {
  const worker = startWorkerProcess(env);
  started.push(worker);
  return worker;
}

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => resolve(probe));
  });
}

const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

beforeAll(async () => {
  server = await startFakeLiveKitServer({ apiKey, apiSecret, waitTimeoutMs: 120_000 });
  dataDir = await copyTemplate();
  wire = await serveOverWire(dataDir, 10);
}, 120_000);

afterAll(async () => {
  for (const worker of started) await worker.kill();
  await server?.close();
  await wire?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * The health endpoint's status once it says healthy, or its last one after 60 s: it answers
 * 503 until the worker is registered and its inference process is up, which on a loaded
 * machine can be a few seconds after the port opens.
 */
async function healthStatus(port: number): Promise<number> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const { status } = await fetch(`http://127.0.0.1:${port}/`);
    if (status === 200 || performance.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the agent worker process (npm run agent)', () => {
  it('says in one line that its health port is taken, and exits 1', async () => {
    const port = await freePort();
    const squatter = await listen(port, '127.0.0.1');
    try {
      const worker = start(workerEnv({ AGENT_HTTP_PORT: String(port) }));

      expect(await worker.exited()).toBe(1);
      const text = worker.otherOutput.filter((line) => line.trim() !== '');
      const fatal = worker.logs.filter((line) => line.msg === 'agent worker cannot start');
      expect(fatal).toHaveLength(1);
      expect(String(fatal[0]?.reason)).toContain(`127.0.0.1:${port}`);
      expect(String(fatal[0]?.reason)).toContain('AGENT_HTTP_PORT');
      // No stack trace, no unhandled 'error' event.
      expect(text.join('\n')).not.toMatch(/EADDRINUSE|Unhandled|at /);
    } finally {
      await closeServer(squatter);
    }
  }, 120_000);

  it('takes any free health port with AGENT_HTTP_PORT=0, even with 8081 taken', async () => {
    // agents reads port 0 as its default 8081; hold 8081 (if free) so that reading fails.
    const squatter = await listen(8081, '127.0.0.1').catch(() => undefined);
    try {
      const worker = start(workerEnv({ AGENT_HTTP_PORT: '0' }));
      const listening = await worker.waitForLog(
        (l) => /^Server is listening on port \d+$/.test(String(l.msg)),
        'listening',
      );
      const port = Number(String(listening.msg).split(' ').at(-1));
      expect(port).not.toBe(8081);
      expect(await healthStatus(port)).toBe(200);
      worker.child.kill('SIGTERM');
      expect(await worker.exited()).toBe(143);
    } finally {
      if (squatter !== undefined) await closeServer(squatter);
    }
  }, 120_000);

  it('binds its health endpoint to HOST and, idle, drains in seconds on SIGTERM', async () => {
    const port = await freePort();
    const worker = start(workerEnv({ AGENT_HTTP_PORT: String(port) }));
    await worker.waitForLog((l) => l.msg === `Server is listening on port ${port}`, 'listening');
    await server.waitForWorker(agentName);

    // Bound to 127.0.0.1 only: the same port on another loopback address is still free.
    const elsewhere = await listen(port, '127.0.0.2');
    await closeServer(elsewhere);
    expect(await healthStatus(port)).toBe(200);

    // SIGTERM while the job processes are still starting, as a user who stops it at once does.
    worker.child.kill('SIGTERM');
    expect(await worker.exited()).toBe(143);

    // No job process was left to time out: agents waited a minute for each that had lost the
    // request, then killed it. (A process still queued to start no longer fails agents' drain
    // with 'runner not started': patches/@livekit+agents+1.9.0.patch, see draining.test.ts.)
    const complaints = worker.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(complaints.map((l) => l.msg)).not.toContain('job did not acknowledge shutdown in time');
    expect(complaints.map((l) => l.msg)).not.toContain('job shutdown is taking too much time');
  }, 180_000);
});

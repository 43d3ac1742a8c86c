import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AgentServer, initializeLogger, ServerOptions } from '@livekit/agents';
import { JobType } from '@livekit/protocol';
import { dispose, Room } from '@livekit/rtc-node';
import { AccessToken, RoomAgentDispatch, RoomConfiguration } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type FakeLiveKitServer,
  type FakeWorker,
  startFakeLiveKitServer,
} from './fake-livekit-server.js';
import { NO_MEDIA_SERVER } from './room-join.js';
import { loadTypeScriptInJobProcesses } from './typescript-job-processes.js';

const apiKey = 'test-key';
const apiSecret = 'test-secret-that-is-long-enough-for-hs256';
const agentName = 'parley-test';
const agentFile = fileURLToPath(new URL('./test-agent.ts', import.meta.url));

initializeLogger({ pretty: false, level: 'error' });

// `Worker` in @livekit/agents is an alias of `AgentServer` (and `WorkerOptions` of `ServerOptions`).
describe('fake LiveKit server with a real @livekit/agents Worker', () => {
  let server: FakeLiveKitServer;
  let worker: AgentServer;
  let running: Promise<void>;
  let serverSide: FakeWorker;
  let restoreNodeOptions: () => void;

  beforeAll(async () => {
    server = await startFakeLiveKitServer({ apiKey, apiSecret });
    restoreNodeOptions = loadTypeScriptInJobProcesses();
    worker = new AgentServer(
      new ServerOptions({
        agent: agentFile,
        agentName,
        wsURL: server.url,
        apiKey,
        apiSecret,
        host: '127.0.0.1',
        port: 0,
        maxRetry: 0,
        // A job process imports @livekit/agents and compiles the agent with tsx: seconds on a
        // busy 2-core machine, past the 10 s default when two jobs start at once.
        initializeProcessTimeout: 60_000,
        logLevel: 'error',
      }),
    );
    const registered = once(worker.event, 'worker_registered');
    running = worker.run();
    await registered;
    serverSide = await server.waitForWorker(agentName);
  });

  afterAll(async () => {
    await worker?.close();
    restoreNodeOptions?.();
    await server?.close();
    await dispose();
  });

  it('registers the worker under its agent name and tells it its id', () => {
    expect(serverSide.id).toMatch(/^AW_/);
    expect(worker.id).toBe(serverSide.id);
    expect(serverSide.jobType).toBe(JobType.JT_ROOM);
    expect(serverSide.permissions?.agent).toBe(true);
    expect(serverSide.received[0]?.message.case).toBe('register');
  });

  it('runs a dispatched job with its metadata and agent name, up to the refused room join', async () => {
    const metadata = JSON.stringify({ chat_room_id: 42, character_id: 'char-7', user_id: 'u-1' });
    const result = await server.dispatchJob({ agentName, roomName: 'room-42', metadata });

    expect(result).toMatchObject({ accepted: true, outcome: 'assigned', workerId: worker.id });
    const jobId = result.job.id;
    expect(result.availability?.participantIdentity).toBe(`agent-${jobId}`);

    const started = await server.waitForJobReport(jobId, 'started');
    expect(started.data).toEqual({ agentName, metadata, roomName: 'room-42', workerId: worker.id });

    const join = await server.waitForJoinAttempt(jobId);
    expect(join).toMatchObject({
      tokenValid: true,
      identity: `agent-${jobId}`,
      roomName: 'room-42',
      kind: 'agent',
    });
    expect(join.claims?.video).toMatchObject({ roomJoin: true, agent: true });

    const failed = await server.waitForJobReport(jobId, 'connect-failed');
    expect(String((failed.data as { message: string }).message)).toContain(NO_MEDIA_SERVER);
  });

  it('does not offer a job for another agent name to this worker', async () => {
    const result = await server.dispatchJob({
      agentName: 'someone-else',
      roomName: 'room-43',
      metadata: '{}',
    });

    expect(result).toMatchObject({ accepted: false, outcome: 'no_worker', workerId: undefined });
    const offered = serverSide.sent.flatMap((m) =>
      m.message.case === 'availability' ? [m.message.value.job] : [],
    );
    expect(offered.map((job) => job?.id)).not.toContain(result.job.id);
    expect(new Set(offered.map((job) => job?.agentName))).toEqual(new Set([agentName]));
  });

  it("dispatches the agents a participant's token names when the participant creates the room", async () => {
    const metadata = JSON.stringify({ chat_room_id: 7, character_id: 'char-2', user_id: 'u-2' });
    const token = new AccessToken(apiKey, apiSecret, { identity: 'user-u-2' });
    token.addGrant({ roomJoin: true, room: 'room-7' });
    token.roomConfig = new RoomConfiguration({
      agents: [new RoomAgentDispatch({ agentName, metadata })],
    });
    const room = new Room();

    await expect(room.connect(server.url, await token.toJwt())).rejects.toThrow(NO_MEDIA_SERVER);

    const dispatch = await server.waitUntil(
      () => server.dispatches.find((d) => d.job.room?.name === 'room-7'),
      'the dispatch for room-7',
    );
    expect(dispatch.accepted).toBe(true);
    const started = await server.waitForJobReport(dispatch.job.id, 'started');
    expect(started.data).toMatchObject({ agentName, metadata, roomName: 'room-7' });
    expect(server.joinAttempts.find((a) => a.identity === 'user-u-2')).toMatchObject({
      tokenValid: true,
      roomName: 'room-7',
      jobId: undefined,
    });
  });

  it('refuses worker connections without a valid agent token', async () => {
    const wrongSecret = new AccessToken(apiKey, 'another-secret-that-is-long-enough-too');
    wrongSecret.addGrant({ agent: true });
    const noAgentGrant = new AccessToken(apiKey, apiSecret);
    noAgentGrant.addGrant({ roomList: true });

    for (const token of [wrongSecret, noAgentGrant]) {
      expect(await upgradeStatus(`${server.url}/agent`, await token.toJwt())).toBe(401);
    }
    expect(server.workers.filter((w) => w.connected)).toHaveLength(1);
  });

  it('sees the worker close cleanly', async () => {
    await worker.close();
    await expect(running).resolves.toBeUndefined();

    await server.waitUntil(() => (serverSide.connected ? undefined : true), 'the worker to leave');
    expect(serverSide.closeCode).toBe(1005);
  });
});

/** The HTTP status a WebSocket upgrade gets (101 when it is accepted). */
async function upgradeStatus(url: string, token: string): Promise<number> {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    socket.on('unexpected-response', (request, response) => {
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('error', reject);
  });
}

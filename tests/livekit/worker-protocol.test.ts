import { once } from 'node:events';
import {
  AvailabilityResponse,
  JobStatus,
  JobType,
  RegisterWorkerRequest,
  ServerMessage,
  UpdateJobStatus,
  UpdateWorkerStatus,
  WorkerMessage,
  WorkerPing,
  WorkerStatus,
} from '@livekit/protocol';
import {
  AccessToken,
  AgentDispatchClient,
  RoomAgentDispatch,
  RoomConfiguration,
  TokenVerifier,
} from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type FakeLiveKitServer, startFakeLiveKitServer } from './fake-livekit-server.js';

const apiKey = 'wire-key';
const apiSecret = 'wire-secret-that-is-long-enough-for-hs256';

type ServerCase = NonNullable<ServerMessage['message']['case']>;
type ServerValue<C extends ServerCase> = Extract<ServerMessage['message'], { case: C }>['value'];

/** A hand-driven worker: the wire side of what @livekit/agents does, one frame at a time. */
class RawWorker {
  readonly #socket: WebSocket;
  readonly #inbox: ServerMessage[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      this.#inbox.push(ServerMessage.fromBinary(data as Buffer));
      this.#wake?.();
    });
  }

  static async connect(server: FakeLiveKitServer): Promise<RawWorker> {
    const token = new AccessToken(apiKey, apiSecret);
    token.addGrant({ agent: true });
    const socket = new WebSocket(`${server.url}/agent`, {
      headers: { authorization: `Bearer ${await token.toJwt()}` },
    });
    await once(socket, 'open');
    return new RawWorker(socket);
  }

  /** Registers and returns the worker id the server gave. */
  async register(agentName: string): Promise<string> {
    this.send({
      case: 'register',
      value: new RegisterWorkerRequest({ type: JobType.JT_ROOM, agentName, version: 'raw' }),
    });
    return (await this.next('register')).workerId;
  }

  send(message: WorkerMessage['message']): void {
    this.#socket.send(new WorkerMessage({ message }).toBinary());
  }

  sendText(text: string): void {
    this.#socket.send(text);
  }

  /** The next server message; fails the test if it is not of the expected case. */
  async next<C extends ServerCase>(expected: C): Promise<ServerValue<C>> {
    while (this.#inbox.length === 0) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    const message = this.#inbox.shift()?.message;
    if (message?.case !== expected) throw new Error(`expected ${expected}, got ${message?.case}`);
    return message.value as ServerValue<C>;
  }

  async closeCode(): Promise<number> {
    if (this.#socket.readyState === WebSocket.CLOSED) throw new Error('already closed');
    const [code] = await once(this.#socket, 'close');
    return code as number;
  }

  close(): void {
    this.#socket.close();
  }
}

describe('fake LiveKit server, agent worker protocol frame by frame', () => {
  let server: FakeLiveKitServer;
  const workers: RawWorker[] = [];
  const connect = async (): Promise<RawWorker> => {
    const worker = await RawWorker.connect(server);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    server = await startFakeLiveKitServer({ apiKey, apiSecret });
  });

  afterAll(async () => {
    for (const worker of workers) worker.close();
    await server?.close();
  });

  it('answers register with a worker id and ping with pong', async () => {
    const worker = await connect();
    const workerId = await worker.register('raw-a');

    expect(server.workers.find((w) => w.id === workerId)).toMatchObject({
      agentName: 'raw-a',
      version: 'raw',
      registered: true,
    });
    worker.send({ case: 'ping', value: new WorkerPing({ timestamp: 123n }) });
    expect((await worker.next('pong')).lastTimestamp).toBe(123n);
  });

  it('assigns a job with a room token for the identity the worker asked for, then ends it', async () => {
    const worker = await connect();
    await worker.register('raw-b');

    const dispatched = server.dispatchJob({ agentName: 'raw-b', roomName: 'r-1', metadata: 'm' });
    const { job } = await worker.next('availability');
    expect(job).toMatchObject({ agentName: 'raw-b', metadata: 'm', room: { name: 'r-1' } });
    const jobId = job?.id ?? '';
    worker.send({ case: 'availability', value: accept(jobId, 'bot-1') });
    const assignment = await worker.next('assignment');
    const result = await dispatched;

    expect(result).toMatchObject({ accepted: true, outcome: 'assigned' });
    expect(assignment.job?.id).toBe(jobId);
    expect(result.assignment?.token).toBe(assignment.token);
    const claims = await new TokenVerifier(apiKey, apiSecret).verify(assignment.token);
    expect(claims).toMatchObject({ sub: 'bot-1', name: 'Bot', kind: 'agent' });
    expect(claims.video).toMatchObject({ roomJoin: true, room: 'r-1', agent: true });

    expect(server.terminateJob(jobId)).toBe(true);
    expect((await worker.next('termination')).jobId).toBe(jobId);
  });

  it('offers a declined job to the next worker, and none to full workers', async () => {
    const first = await connect();
    const second = await connect();
    await first.register('raw-c');
    const secondId = await second.register('raw-c');

    const dispatched = server.dispatchJob({ agentName: 'raw-c', roomName: 'r-2' });
    const offer = await first.next('availability');
    first.send({ case: 'availability', value: decline(offer.job?.id ?? '') });
    const secondOffer = await second.next('availability');
    second.send({ case: 'availability', value: accept(secondOffer.job?.id ?? '', 'bot-2') });
    await second.next('assignment');
    expect(await dispatched).toMatchObject({ accepted: true, workerId: secondId });

    for (const worker of [first, second]) {
      worker.send({ case: 'updateWorker', value: new UpdateWorkerStatus({ status: full }) });
    }
    await server.waitUntil(
      () => (server.workers.filter((w) => w.status === full).length === 2 ? true : undefined),
      'both workers full',
    );
    expect(await server.dispatchJob({ agentName: 'raw-c', roomName: 'r-3' })).toMatchObject({
      accepted: false,
      outcome: 'no_worker',
    });
  });

  it("keeps a room's agent dispatch pending until a worker for it registers, as LiveKit does", async () => {
    const token = new AccessToken(apiKey, apiSecret, { identity: 'early-user' });
    token.addGrant({ roomJoin: true, room: 'r-early' });
    token.roomConfig = new RoomConfiguration({
      agents: [new RoomAgentDispatch({ agentName: 'raw-late', metadata: 'late' })],
    });
    // The user joins first (refused: no media here, but the room is made and its agent asked).
    const user = new WebSocket(`${server.url}/rtc?access_token=${await token.toJwt()}`);
    user.on('error', () => {});
    await server.waitUntil(
      () => server.dispatches.find((d) => d.job.room?.name === 'r-early'),
      'the first dispatch attempt',
    );
    expect(server.dispatches.filter((d) => d.job.room?.name === 'r-early')).toMatchObject([
      { outcome: 'no_worker' },
    ]);

    const worker = await connect();
    await worker.register('raw-late');
    const { job } = await worker.next('availability');
    expect(job).toMatchObject({
      agentName: 'raw-late',
      metadata: 'late',
      room: { name: 'r-early' },
    });
    user.close();
  });

  it('records job status updates', async () => {
    const worker = await connect();
    const workerId = await worker.register('raw-d');
    const update = new UpdateJobStatus({ jobId: 'AJ_x', status: JobStatus.JS_SUCCESS });
    worker.send({ case: 'updateJob', value: update });

    const recorded = await server.waitUntil(
      () => server.workers.find((w) => w.id === workerId)?.jobUpdates[0],
      'a job update',
    );
    expect(recorded).toMatchObject({ jobId: 'AJ_x', status: JobStatus.JS_SUCCESS });
  });

  it('creates, lists and deletes explicit dispatches for AgentDispatchClient', async () => {
    const worker = await connect();
    await worker.register('raw-f');
    const client = new AgentDispatchClient(server.httpUrl, apiKey, apiSecret);
    const metadata = '{"chat_room_id":4}';

    const created = await client.createDispatch('r-4', 'raw-f', { metadata });
    const { job } = await worker.next('availability');
    expect(job).toMatchObject({ dispatchId: created.id, agentName: 'raw-f', metadata });
    expect(job?.room?.name).toBe('r-4');
    worker.send({ case: 'availability', value: accept(job?.id ?? '', 'bot-4') });
    await worker.next('assignment');
    await server.waitUntil(
      () => server.agentDispatches.find((d) => d.id === created.id && d.state?.jobs.length),
      'the dispatch to hold its job',
    );

    const listed = await client.listDispatch('r-4');
    expect(listed.map((d) => [d.id, d.state?.jobs.map((j) => j.id)])).toEqual([
      [created.id, [job?.id]],
    ]);
    await client.deleteDispatch(created.id, 'r-4');
    expect(await client.listDispatch('r-4')).toEqual([]);

    const stranger = new AgentDispatchClient(
      server.httpUrl,
      apiKey,
      'not-the-secret-but-long-enough',
    );
    await expect(stranger.listDispatch('r-4')).rejects.toMatchObject({ status: 401 });
  });

  it('closes connections that do not start with register or send text frames', async () => {
    const unregistered = await connect();
    const closedUnregistered = unregistered.closeCode();
    unregistered.send({ case: 'ping', value: new WorkerPing({ timestamp: 1n }) });
    expect(await closedUnregistered).toBe(1008);

    const texting = await connect();
    await texting.register('raw-e');
    const closedTexting = texting.closeCode();
    texting.sendText('{"register":{}}');
    expect(await closedTexting).toBe(1003);
  });
});

const full = WorkerStatus.WS_FULL;

function accept(jobId: string, identity: string): AvailabilityResponse {
  return new AvailabilityResponse({
    jobId,
    available: true,
    participantIdentity: identity,
    participantName: 'Bot',
  });
}

function decline(jobId: string): AvailabilityResponse {
  return new AvailabilityResponse({ jobId, available: false });
}

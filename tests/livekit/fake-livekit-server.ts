import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AvailabilityResponse,
  type Job,
  JobAssignment,
  RoomConfiguration,
  WorkerStatus,
} from '@livekit/protocol';
import { TokenVerifier } from 'livekit-server-sdk';
import { WebSocketServer } from 'ws';
import { JOB_REPORT_PATH, type JobReport, parseJobReport } from './job-report.js';
import { type DispatchJobInput, mintAgentToken, newId, newJob } from './jobs.js';
import {
  answerValidate,
  bearerToken,
  type RoomJoinAttempt,
  readJoinAttempt,
  refuseJoin,
  refuseUpgrade,
} from './room-join.js';
import { Waiters } from './waiters.js';
import { type FakeWorker, WorkerSession } from './worker-session.js';

export { type JobReport, postJobReport } from './job-report.js';
export type { DispatchJobInput } from './jobs.js';
export type { RoomJoinAttempt } from './room-join.js';
export type { FakeWorker } from './worker-session.js';

export interface FakeLiveKitServerOptions {
  /** The key and secret every token must be signed with (workers, room joins). */
  apiKey: string;
  apiSecret: string;
  /** How long a worker may take to answer an availability request. Default 10 s. */
  availabilityTimeoutMs?: number;
  /** Bound on every `waitFor…` helper, so a missing event fails a test. Default 30 s. */
  waitTimeoutMs?: number;
}

/** The outcome of one dispatch, as the fake server saw it. */
export interface DispatchResult {
  /** True once a worker said yes and the assignment was sent to it. */
  accepted: boolean;
  /** `no_worker`: no connected, available worker registered under that name and job type. */
  outcome: 'assigned' | 'no_worker' | 'rejected';
  /** The job offered (also when nobody took it). */
  job: Job;
  /** The worker that took the job. */
  workerId: string | undefined;
  /** That worker's availability answer (participant identity, name, attributes). */
  availability: AvailabilityResponse | undefined;
  /** What was sent to the worker: the job and the room token for it. */
  assignment: JobAssignment | undefined;
}

/**
 * A stand-in for a LiveKit server, for tests, speaking the real agent worker protocol.
 *
 * Real: the worker WebSocket at `/agent` (JWT checked with `TokenVerifier`, agent grant
 * required; binary protobuf `WorkerMessage`/`ServerMessage` from `@livekit/protocol`), worker
 * registration, `ping`/`pong`, `updateWorker` load and status, the dispatch round trip
 * (`AvailabilityRequest` → `AvailabilityResponse` → `JobAssignment` with a signed room token
 * for the identity the worker asked for) and `JobTermination`. A real `@livekit/agents` Worker
 * registers, accepts the job and forks a job process whose entry function runs with the
 * dispatched `ctx.job` (id, room, metadata, agent name).
 *
 * Not real: there is no media server. A room join (`ctx.connect()`, any client's `/rtc`
 * WebSocket) is verified, recorded in {@link joinAttempts} and refused (HTTP 403, or 401 for a
 * bad token), so `ctx.connect()` rejects within milliseconds. A non-agent join creates the
 * room and dispatches the agents its token's `roomConfig` names, as LiveKit does when the
 * first participant creates a room; there is no other room state, no Twirp room API and no
 * webhooks. Dispatches go to the first available matching worker, without load balancing.
 * `POST /_fake/job-report` is not LiveKit at all: test agents use it ({@link postJobReport})
 * to tell the test what their entry function saw.
 */
export interface FakeLiveKitServer {
  /** `ws://127.0.0.1:<port>`: the worker's `wsURL` / `LIVEKIT_URL`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`, for HTTP clients. */
  readonly httpUrl: string;
  /** Every worker connection that passed authentication, in connection order. */
  readonly workers: readonly FakeWorker[];
  readonly dispatches: readonly DispatchResult[];
  readonly joinAttempts: readonly RoomJoinAttempt[];
  readonly jobReports: readonly JobReport[];
  /**
   * Offers a job to each connected, available worker registered under `agentName` for the
   * job type, in turn, until one accepts; then mints its room token and sends the assignment.
   * Resolves once the assignment is sent: the job process starts after that.
   */
  dispatchJob(input: DispatchJobInput): Promise<DispatchResult>;
  /** Sends `JobTermination` to the worker running `jobId`. False if no worker has that job. */
  terminateJob(jobId: string): boolean;
  /** Resolves with the first connected worker registered under `agentName`. */
  waitForWorker(agentName: string): Promise<FakeWorker>;
  /** Resolves with the first report of `event` from job `jobId`. */
  waitForJobReport(jobId: string, event: string): Promise<JobReport>;
  /** Resolves with the first room join made with the token assigned to `jobId`. */
  waitForJoinAttempt(jobId: string): Promise<RoomJoinAttempt>;
  /** Resolves with the first value `probe` returns, re-checked after every server event. */
  waitUntil<T>(probe: () => T | undefined, what: string): Promise<T>;
  /** Closes worker connections (code 1001) and the port. Close your workers first. */
  close(): Promise<void>;
}

/** Starts a {@link FakeLiveKitServer} on 127.0.0.1, on a free port. */
export async function startFakeLiveKitServer(
  options: FakeLiveKitServerOptions,
): Promise<FakeLiveKitServer> {
  const server = new FakeLiveKit(options);
  await server.listen();
  return server;
}

const MAX_REPORT_BYTES = 1_048_576;

class FakeLiveKit implements FakeLiveKitServer {
  readonly #keys: { apiKey: string; apiSecret: string };
  readonly #verifier: TokenVerifier;
  readonly #availabilityTimeoutMs: number;
  readonly #waitTimeoutMs: number;
  readonly #http: Server = createServer((request, response) => this.#onRequest(request, response));
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #waiters = new Waiters();
  readonly #sessions: WorkerSession[] = [];
  readonly #dispatches: DispatchResult[] = [];
  readonly #joinAttempts: RoomJoinAttempt[] = [];
  readonly #jobReports: JobReport[] = [];
  readonly #roomSids = new Map<string, string>();
  readonly #jobIdByToken = new Map<string, string>();
  #port = 0;
  #closed = false;

  constructor(options: FakeLiveKitServerOptions) {
    this.#keys = { apiKey: options.apiKey, apiSecret: options.apiSecret };
    this.#verifier = new TokenVerifier(options.apiKey, options.apiSecret);
    this.#availabilityTimeoutMs = options.availabilityTimeoutMs ?? 10_000;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 30_000;
    this.#http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#onUpgrade(request, socket, head).catch(() => socket.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }
  get httpUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  get workers(): readonly FakeWorker[] {
    return this.#sessions;
  }
  get dispatches(): readonly DispatchResult[] {
    return this.#dispatches;
  }
  get joinAttempts(): readonly RoomJoinAttempt[] {
    return this.#joinAttempts;
  }
  get jobReports(): readonly JobReport[] {
    return this.#jobReports;
  }

  async dispatchJob(input: DispatchJobInput): Promise<DispatchResult> {
    const job = newJob(input, this.#roomSid(input.roomName));
    const candidates = this.#sessions.filter(
      (worker) =>
        worker.connected &&
        worker.registered &&
        worker.agentName === job.agentName &&
        worker.jobType === job.type &&
        worker.status === WorkerStatus.WS_AVAILABLE,
    );
    let result: DispatchResult = { ...notAssigned(job), outcome: 'no_worker' };
    for (const worker of candidates) {
      result = await this.#offer(worker, job);
      if (result.accepted) break;
    }
    this.#dispatches.push(result);
    this.#waiters.changed();
    return result;
  }

  async #offer(worker: WorkerSession, job: Job): Promise<DispatchResult> {
    const rejected: DispatchResult = { ...notAssigned(job), outcome: 'rejected' };
    const availability = await worker.requestAvailability(job, this.#availabilityTimeoutMs);
    if (!availability?.available) return { ...rejected, workerId: worker.id, availability };
    const token = await mintAgentToken(this.#keys, job, availability, worker.permissions);
    const assignment = new JobAssignment({ job, token });
    if (!worker.assign(assignment)) return { ...rejected, workerId: worker.id, availability };
    this.#jobIdByToken.set(token, job.id);
    return {
      accepted: true,
      outcome: 'assigned',
      job,
      workerId: worker.id,
      availability,
      assignment,
    };
  }

  terminateJob(jobId: string): boolean {
    const dispatch = this.#dispatches.find((d) => d.accepted && d.job.id === jobId);
    const worker = this.#sessions.find((session) => session.id === dispatch?.workerId);
    return worker?.terminate(jobId) ?? false;
  }

  waitForWorker(agentName: string): Promise<FakeWorker> {
    return this.waitUntil(
      () => this.#sessions.find((w) => w.registered && w.connected && w.agentName === agentName),
      `a worker registered as "${agentName}"`,
    );
  }

  waitForJobReport(jobId: string, event: string): Promise<JobReport> {
    return this.waitUntil(
      () => this.#jobReports.find((r) => r.jobId === jobId && r.event === event),
      `report "${event}" from job ${jobId}`,
    );
  }

  waitForJoinAttempt(jobId: string): Promise<RoomJoinAttempt> {
    return this.waitUntil(
      () => this.#joinAttempts.find((attempt) => attempt.jobId === jobId),
      `a room join by job ${jobId}`,
    );
  }

  waitUntil<T>(probe: () => T | undefined, what: string): Promise<T> {
    return this.#waiters.until(probe, what, this.#waitTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.close('the fake LiveKit server was closed');
    for (const worker of this.#sessions) if (worker.connected) worker.close(1001, 'going away');
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #roomSid(roomName: string): string {
    let sid = this.#roomSids.get(roomName);
    if (sid === undefined) {
      sid = newId('RM_');
      this.#roomSids.set(roomName, sid);
    }
    return sid;
  }

  async #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', this.httpUrl);
    if (url.pathname === '/agent') return this.#acceptWorker(request, socket, head, url);
    if (url.pathname === '/rtc' || url.pathname.startsWith('/rtc/')) {
      const attempt = await readJoinAttempt(request, url, this.#verifier, (token) =>
        this.#jobIdByToken.get(token),
      );
      this.#joinAttempts.push(attempt);
      this.#dispatchRoomAgents(attempt);
      this.#waiters.changed();
      return refuseJoin(socket, attempt);
    }
    refuseUpgrade(socket, 404, 'no such WebSocket endpoint');
  }

  async #acceptWorker(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) {
    const token = bearerToken(request, url);
    const claims = token === undefined ? undefined : await this.#verifier.verify(token).catch(noop);
    if (claims?.video?.agent !== true) {
      return refuseUpgrade(socket, 401, 'a token with the agent grant is required');
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const notify = () => this.#waiters.changed();
      this.#sessions.push(new WorkerSession(ws, newId('AW_'), notify));
      notify();
    });
  }

  /**
   * A participant's join creates its room; LiveKit then dispatches the agents the token's
   * `roomConfig` names, or, when it names none, the workers registered without a name.
   */
  #dispatchRoomAgents(attempt: RoomJoinAttempt): void {
    const roomName = attempt.roomName;
    if (!attempt.tokenValid || attempt.kind === 'agent' || roomName === undefined) return;
    if (this.#roomSids.has(roomName)) return;
    this.#roomSid(roomName);
    // The claim holds the configuration in protobuf JSON form.
    const config = RoomConfiguration.fromJsonString(
      JSON.stringify(attempt.claims?.roomConfig ?? {}),
      {
        ignoreUnknownFields: true,
      },
    );
    const agents = config.agents.length > 0 ? config.agents : [{ agentName: '', metadata: '' }];
    for (const { agentName, metadata } of agents) {
      const named = agentName !== '' || this.#sessions.some((w) => w.agentName === '');
      if (named) void this.dispatchJob({ agentName, roomName, metadata });
    }
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.httpUrl);
    if (request.method === 'GET' && /^\/rtc(\/v1)?\/validate$/.test(url.pathname)) {
      void answerValidate(request, response, url, this.#verifier);
      return;
    }
    if (request.method === 'POST' && url.pathname === JOB_REPORT_PATH) {
      void this.#receiveReport(request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  async #receiveReport(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request, MAX_REPORT_BYTES);
    const report = body === undefined ? undefined : parseJobReport(body);
    if (report === undefined) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('not a job report');
      return;
    }
    this.#jobReports.push(report);
    this.#waiters.changed();
    response.writeHead(204).end();
  }
}

function notAssigned(job: Job): Omit<DispatchResult, 'outcome'> {
  return {
    accepted: false,
    job,
    workerId: undefined,
    availability: undefined,
    assignment: undefined,
  };
}

function noop(): undefined {
  return undefined;
}

/** The request body as text; `undefined` when it is larger than `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

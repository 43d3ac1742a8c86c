import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AgentDispatch,
  type Job,
  JobAssignment,
  JobType,
  RoomConfiguration,
  WorkerStatus,
} from '@livekit/protocol';
import { TokenVerifier } from 'livekit-server-sdk';
import { WebSocketServer } from 'ws';
import { AgentDispatches } from './agent-dispatches.js';
import type {
  DispatchResult,
  FakeLiveKitServer,
  FakeLiveKitServerOptions,
} from './fake-livekit-server.js';
import { type HttpRoutes, routeHttp } from './http-routes.js';
import type { JobReport } from './job-report.js';
import { type DispatchJobInput, mintAgentToken, newId, newJob } from './jobs.js';
import {
  bearerToken,
  type RoomJoinAttempt,
  readJoinAttempt,
  refuseJoin,
  refuseUpgrade,
} from './room-join.js';
import type { RoomState } from './rooms/rooms.js';
import { Rooms } from './rooms/rooms.js';
import { Waiters } from './waiters.js';
import { type FakeWorker, WorkerSession } from './worker-session.js';

/** The implementation behind {@link FakeLiveKitServer}; see there for what is real. */
export class FakeLiveKit implements FakeLiveKitServer {
  readonly #keys: { apiKey: string; apiSecret: string };
  readonly #verifier: TokenVerifier;
  readonly #availabilityTimeoutMs: number;
  readonly #waitTimeoutMs: number;
  readonly #http: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', this.httpUrl);
    void routeHttp(request, response, url, this.#routes).catch(() => response.destroy());
  });
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #waiters: Waiters;
  readonly #sessions: WorkerSession[] = [];
  readonly #dispatches: DispatchResult[] = [];
  readonly #joinAttempts: RoomJoinAttempt[] = [];
  readonly #jobReports: JobReport[] = [];
  readonly #roomSids = new Map<string, string>();
  readonly #jobIdByToken = new Map<string, string>();
  readonly #agentDispatches = new AgentDispatches(
    (input) => this.dispatchJob(input),
    () => this.#waiters.changed(),
  );
  readonly #routes: HttpRoutes;
  readonly #rooms: Rooms | undefined;
  #port = 0;
  #closed = false;

  constructor(options: FakeLiveKitServerOptions) {
    this.#waiters = new Waiters(options.onChange);
    this.#keys = { apiKey: options.apiKey, apiSecret: options.apiSecret };
    this.#verifier = new TokenVerifier(options.apiKey, options.apiSecret);
    this.#availabilityTimeoutMs = options.availabilityTimeoutMs ?? 10_000;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 30_000;
    this.#rooms =
      options.rooms === true
        ? new Rooms(() => this.#waiters.changed(), {
            fastPublish: options.fastPublish ?? true,
          })
        : undefined;
    this.#routes = {
      verifier: this.#verifier,
      dispatches: this.#agentDispatches,
      servesRooms: options.rooms === true,
      receiveReport: (report) => {
        this.#jobReports.push(report);
        this.#waiters.changed();
      },
    };
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
  get agentDispatches(): readonly AgentDispatch[] {
    return this.#agentDispatches.all;
  }
  get rooms(): readonly RoomState[] {
    return this.#rooms?.all ?? [];
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
    this.#rooms?.close();
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
    // The single-PeerConnection protocol (`/rtc/v1`) is not served: a 404 makes the SDKs fall
    // back to `/rtc`, with a publisher and a subscriber PeerConnection.
    if (this.#rooms !== undefined && url.pathname === '/rtc/v1') {
      return refuseUpgrade(socket, 404, 'use /rtc');
    }
    if (url.pathname === '/rtc' || url.pathname.startsWith('/rtc/')) {
      const attempt = await readJoinAttempt(request, url, this.#verifier, (token) =>
        this.#jobIdByToken.get(token),
      );
      this.#joinAttempts.push(attempt);
      this.#dispatchRoomAgents(attempt);
      this.#waiters.changed();
      const rooms = this.#rooms;
      const claims = attempt.claims;
      if (rooms === undefined || claims?.video?.roomJoin !== true || !attempt.roomName) {
        return refuseJoin(socket, attempt);
      }
      const roomSid = this.#roomSid(attempt.roomName);
      this.#wss.handleUpgrade(request, socket, head, (ws) => rooms.join(ws, claims, roomSid));
      return;
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
    const agents = roomAgents(attempt.claims?.roomConfig);
    for (const { agentName, metadata } of agents.length > 0 ? agents : [unnamedAgent]) {
      const someoneToAsk = agentName !== '' || this.#sessions.some((w) => w.agentName === '');
      if (someoneToAsk) void this.#dispatchWhenAWorkerIsFree({ agentName, roomName, metadata });
    }
  }

  /**
   * A room's agent waits for a worker, as LiveKit keeps the dispatch pending: a user can join
   * before the worker has registered (`npm run smoke:livekit` starts both at once). Bounded:
   * it gives up after ten minutes or when the server closes.
   */
  async #dispatchWhenAWorkerIsFree(input: DispatchJobInput): Promise<void> {
    const free = () =>
      this.#sessions.find(
        (w) =>
          w.registered &&
          w.connected &&
          w.agentName === input.agentName &&
          w.jobType === (input.jobType ?? JobType.JT_ROOM) &&
          w.status === WorkerStatus.WS_AVAILABLE,
      );
    for (;;) {
      const { outcome } = await this.dispatchJob(input);
      if (outcome !== 'no_worker') return;
      const found = await this.#waiters
        .until(free, `a free worker for ${input.roomName}`, PENDING_DISPATCH_MS)
        .catch(noop);
      if (found === undefined) return;
    }
  }
}

const PENDING_DISPATCH_MS = 10 * 60_000;

const unnamedAgent = { agentName: '', metadata: '' };

/** The agents a token's `roomConfig` claim (protobuf JSON) names; none if it is malformed. */
function roomAgents(claim: unknown): { agentName: string; metadata: string }[] {
  try {
    const json = JSON.stringify(claim ?? {});
    return RoomConfiguration.fromJsonString(json, { ignoreUnknownFields: true }).agents;
  } catch {
    return [];
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

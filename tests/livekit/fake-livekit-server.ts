import type { AgentDispatch, AvailabilityResponse, Job, JobAssignment } from '@livekit/protocol';
import { FakeLiveKit } from './fake-livekit.js';
import type { JobReport } from './job-report.js';
import type { DispatchJobInput } from './jobs.js';
import type { RoomJoinAttempt } from './room-join.js';
import type { RoomState } from './rooms/rooms.js';
import type { FakeWorker } from './worker-session.js';

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
  /**
   * Serve room joins on `/rtc` (signalling, WebRTC media and data between participants).
   * Default false: joins are verified, recorded and refused, as before rooms existed.
   */
  rooms?: boolean;
  /**
   * Tell publishers to negotiate at once (`JoinResponse.fast_publish`), as LiveKit does for
   * every participant that may publish. Default true; false is what LiveKit answers a client
   * that joined through an ICE fallback: the SDKs then negotiate on demand, debounced.
   */
  fastPublish?: boolean;
  /** Called after every change of the server's state (workers, dispatches, rooms). */
  onChange?: () => void;
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
 * first participant creates a room. `AgentDispatchClient` works (Create/List/DeleteDispatch
 * over Twirp, `roomAdmin` for the room required); there is no other room state, no
 * `RoomServiceClient` API and no webhooks. Dispatches go to the first available matching
 * worker, without load balancing.
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
  /** Explicit dispatches created over Twirp (`AgentDispatchClient.createDispatch`). */
  readonly agentDispatches: readonly AgentDispatch[];
  /** The live rooms and their participants (only with `rooms: true`). */
  readonly rooms: readonly RoomState[];
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

/**
 * Starts a {@link FakeLiveKitServer} on 127.0.0.1, on a free port.
 *
 * @example A real worker against it (see fake-livekit-server.test.ts for the whole test)
 * ```ts
 * const server = await startFakeLiveKitServer({ apiKey, apiSecret });
 * const restore = loadTypeScriptInJobProcesses(); // only when the agent file is .ts, in vitest
 * const worker = new AgentServer(new ServerOptions({ agent: agentFile, agentName: 'parley-test',
 *   wsURL: server.url, apiKey, apiSecret, host: '127.0.0.1', port: 0 }));
 * const running = worker.run();
 * await server.waitForWorker('parley-test');
 * const { job } = await server.dispatchJob({ agentName: 'parley-test', roomName: 'r', metadata });
 * await server.waitForJoinAttempt(job.id); // the job's entry reached ctx.connect()
 * await worker.close(); await running; restore(); await server.close(); await dispose();
 * ```
 */
export async function startFakeLiveKitServer(
  options: FakeLiveKitServerOptions,
): Promise<FakeLiveKitServer> {
  const server = new FakeLiveKit(options);
  await server.listen();
  return server;
}

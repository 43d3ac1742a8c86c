import {
  AvailabilityRequest,
  type AvailabilityResponse,
  type Job,
  type JobAssignment,
  JobTermination,
  JobType,
  type ParticipantPermission,
  type RegisterWorkerRequest,
  RegisterWorkerResponse,
  ServerInfo,
  ServerInfo_Edition,
  ServerMessage,
  type UpdateJobStatus,
  type UpdateWorkerStatus,
  WorkerMessage,
  type WorkerPing,
  WorkerPong,
  WorkerStatus,
} from '@livekit/protocol';
import { type RawData, WebSocket } from 'ws';

/** What the fake server knows about one agent worker connection, live or ended. */
export interface FakeWorker {
  /** `AW_…`, assigned by the server and sent back in the register response. */
  readonly id: string;
  /** False until the worker's `register` message arrived. */
  readonly registered: boolean;
  readonly agentName: string;
  readonly jobType: JobType;
  /** The agents SDK version the worker reported. */
  readonly version: string;
  readonly namespace: string | undefined;
  readonly deployment: string;
  readonly permissions: ParticipantPermission | undefined;
  /** The last status the worker reported (`updateWorker`); available until it says otherwise. */
  readonly status: WorkerStatus;
  readonly load: number;
  readonly connected: boolean;
  /** The WebSocket close code once the connection ended (1005: closed without a code). */
  readonly closeCode: number | undefined;
  /** Every message the worker sent, in order, decoded. */
  readonly received: readonly WorkerMessage[];
  /** Every message the server sent to the worker, in order. */
  readonly sent: readonly ServerMessage[];
  /** The worker's `updateJob` messages. agents-js 1.9.0 sends none; Python workers do. */
  readonly jobUpdates: readonly UpdateJobStatus[];
}

/**
 * The server side of one worker's WebSocket: decodes `WorkerMessage` frames, answers
 * `register` and `ping`, tracks `updateWorker`, and runs the availability round trip of a
 * dispatch. Knows nothing about rooms or tokens; the server decides what to dispatch.
 */
export class WorkerSession implements FakeWorker {
  readonly id: string;
  registered = false;
  agentName = '';
  jobType: JobType = JobType.JT_ROOM;
  version = '';
  namespace: string | undefined;
  deployment = '';
  permissions: ParticipantPermission | undefined;
  status: WorkerStatus = WorkerStatus.WS_AVAILABLE;
  load = 0;
  connected = true;
  closeCode: number | undefined;
  readonly received: WorkerMessage[] = [];
  readonly sent: ServerMessage[] = [];
  readonly jobUpdates: UpdateJobStatus[] = [];
  readonly #socket: WebSocket;
  readonly #onChange: () => void;
  readonly #pending = new Map<string, (answer: AvailabilityResponse | undefined) => void>();

  constructor(socket: WebSocket, id: string, onChange: () => void) {
    this.#socket = socket;
    this.id = id;
    this.#onChange = onChange;
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('close', (code) => this.#onClose(code));
    // An 'error' event without a listener would crash the process; 'close' follows it.
    socket.on('error', () => undefined);
  }

  /**
   * Offers `job` to the worker and waits for its answer. Resolves `undefined` when the worker
   * does not answer within `timeoutMs` or disconnects first.
   */
  requestAvailability(job: Job, timeoutMs: number): Promise<AvailabilityResponse | undefined> {
    return new Promise((resolve) => {
      const settle = (answer: AvailabilityResponse | undefined): void => {
        clearTimeout(timer);
        this.#pending.delete(job.id);
        resolve(answer);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      timer.unref();
      this.#pending.set(job.id, settle);
      if (!this.#send({ case: 'availability', value: new AvailabilityRequest({ job }) })) {
        settle(undefined);
      }
    });
  }

  /** Sends the assignment; false when the worker is gone. */
  assign(assignment: JobAssignment): boolean {
    return this.#send({ case: 'assignment', value: assignment });
  }

  /** Asks the worker to end a job; false when the worker is gone. */
  terminate(jobId: string): boolean {
    return this.#send({ case: 'termination', value: new JobTermination({ jobId }) });
  }

  /** Ends the connection from the server side (the worker will try to reconnect). */
  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  /** Sends and records one frame; false (and nothing recorded) when the socket is not open. */
  #send(message: ServerMessage['message']): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) return false;
    const frame = new ServerMessage({ message });
    this.sent.push(frame);
    this.#socket.send(frame.toBinary());
    return true;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.#socket.close(1003, 'expected binary protobuf WorkerMessage frames');
      return;
    }
    let message: WorkerMessage;
    try {
      message = WorkerMessage.fromBinary(toBytes(data));
    } catch {
      this.#socket.close(1007, 'not a WorkerMessage');
      return;
    }
    this.received.push(message);
    this.#handle(message.message);
    this.#onChange();
  }

  #handle(message: WorkerMessage['message']): void {
    if (message.case !== 'register' && !this.registered) {
      this.#socket.close(1008, 'the first message must be register');
      return;
    }
    switch (message.case) {
      case 'register':
        this.#register(message.value);
        return;
      case 'availability':
        this.#pending.get(message.value.jobId)?.(message.value);
        return;
      case 'updateWorker':
        this.#updateWorker(message.value);
        return;
      case 'updateJob':
        this.jobUpdates.push(message.value);
        return;
      case 'ping':
        this.#pong(message.value);
        return;
      default:
        // simulateJob and migrateJob are only recorded in `received`.
        return;
    }
  }

  #register(request: RegisterWorkerRequest): void {
    if (this.registered) {
      this.#socket.close(1008, 'register sent twice');
      return;
    }
    this.registered = true;
    this.agentName = request.agentName;
    this.jobType = request.type;
    this.version = request.version;
    this.namespace = request.namespace;
    this.deployment = request.deployment;
    this.permissions = request.allowedPermissions;
    const serverInfo = new ServerInfo({
      edition: ServerInfo_Edition.Standard,
      version: 'fake',
      nodeId: 'fake-livekit',
    });
    this.#send({
      case: 'register',
      value: new RegisterWorkerResponse({ workerId: this.id, serverInfo }),
    });
  }

  #updateWorker(update: UpdateWorkerStatus): void {
    if (update.status !== undefined) this.status = update.status;
    this.load = update.load;
  }

  #pong(ping: WorkerPing): void {
    this.#send({
      case: 'pong',
      value: new WorkerPong({ lastTimestamp: ping.timestamp, timestamp: BigInt(Date.now()) }),
    });
  }

  #onClose(code: number): void {
    this.connected = false;
    this.closeCode = code;
    for (const settle of [...this.#pending.values()]) settle(undefined);
    this.#onChange();
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

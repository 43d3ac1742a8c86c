import type { ParticipantInfo_Kind, WorkerStatus } from '@livekit/protocol';
import type { FakeLiveKitServer } from './fake-livekit-server.js';

/** A participant as the room server sees it: what the stack's tests read. */
export interface ParticipantView {
  readonly identity: string;
  readonly connected: boolean;
  readonly info: {
    readonly kind: ParticipantInfo_Kind;
    readonly attributes: Readonly<Record<string, string>>;
    readonly tracks: readonly { readonly sid: string; readonly name: string }[];
  };
  /** The SFU's two PeerConnections and what it forwards to this participant. */
  readonly peerStates: {
    readonly publisher: string;
    readonly subscriber: string;
    readonly negotiating: boolean;
    readonly announcedNotArrived: readonly string[];
    readonly arrivedUnannounced: readonly { mid: string; cid: string | undefined }[];
    readonly publisherOffers: readonly (readonly string[])[];
    /** `<identity> <track sid>` of every track forwarded to this participant. */
    readonly receives: readonly string[];
  };
}

export interface RoomView {
  readonly name: string;
  readonly participants: readonly ParticipantView[];
}

export interface DispatchView {
  readonly accepted: boolean;
  readonly outcome: 'assigned' | 'no_worker' | 'rejected';
  readonly job: { readonly id: string; readonly room?: { readonly name: string } | undefined };
}

export interface WorkerView {
  readonly id: string;
  readonly registered: boolean;
  readonly agentName: string;
  readonly status: WorkerStatus;
  readonly connected: boolean;
}

/**
 * The test LiveKit server as a stack's tests see it, whether it runs in the test process
 * ({@link FakeLiveKitServer} is one) or in a process of its own, as a real LiveKit server
 * does (`startRoomServerProcess`): its URLs, its state, and waits on that state.
 */
export interface RoomServer {
  /** `ws://127.0.0.1:<port>`: `LIVEKIT_URL`. */
  readonly url: string;
  readonly httpUrl: string;
  readonly rooms: readonly RoomView[];
  readonly dispatches: readonly DispatchView[];
  readonly workers: readonly WorkerView[];
  /** Resolves with the first connected worker registered under `agentName`. */
  waitForWorker(agentName: string): Promise<WorkerView>;
  /** Resolves with the first value `probe` returns, re-checked after every change of state. */
  waitUntil<T>(probe: () => T | undefined, what: string): Promise<T>;
  close(): Promise<void>;
}

/** Everything a {@link RoomServer} shows, as plain data that crosses a process boundary. */
export interface RoomServerState {
  rooms: RoomView[];
  dispatches: DispatchView[];
  workers: WorkerView[];
}

/** What the room server's process tells its parent over IPC (see dev-server.ts). */
export type RoomServerMessage =
  | { type: 'ready'; url: string; httpUrl: string }
  | { type: 'state'; state: RoomServerState };

/** `server`'s state now, as plain data (no protobuf classes, no bigints). */
export function stateOf(server: FakeLiveKitServer): RoomServerState {
  return {
    rooms: server.rooms.map((room) => ({
      name: room.name,
      participants: room.participants.map((p) => ({
        identity: p.identity,
        connected: p.connected,
        info: {
          kind: p.info.kind,
          attributes: { ...p.info.attributes },
          tracks: p.info.tracks.map((t) => ({ sid: t.sid, name: t.name })),
        },
        peerStates: p.peerStates,
      })),
    })),
    dispatches: server.dispatches.map((d) => ({
      accepted: d.accepted,
      outcome: d.outcome,
      job: { id: d.job.id, room: d.job.room && { name: d.job.room.name } },
    })),
    workers: server.workers.map((w) => ({
      id: w.id,
      registered: w.registered,
      agentName: w.agentName,
      status: w.status,
      connected: w.connected,
    })),
  };
}

import {
  AgentDispatch,
  AgentDispatchState,
  CreateAgentDispatchRequest,
  DeleteAgentDispatchRequest,
  type Job,
  ListAgentDispatchRequest,
  ListAgentDispatchResponse,
} from '@livekit/protocol';
import type { ClaimGrants } from 'livekit-server-sdk';
import { type DispatchJobInput, newId } from './jobs.js';

/** Runs one dispatch against the connected workers (the server's `dispatchJob`). */
type Dispatcher = (input: DispatchJobInput) => Promise<{ accepted: boolean; job: Job }>;

/** A Twirp reply: HTTP status and JSON body. */
export interface TwirpReply {
  status: number;
  body: unknown;
}

/**
 * LiveKit's explicit agent dispatches, the `AgentDispatchService` that `AgentDispatchClient`
 * calls, kept in memory. Creating one dispatches its job to the workers in the background,
 * as LiveKit does; the job joins `state.jobs` once a worker took it.
 */
export class AgentDispatches {
  readonly #dispatchJob: Dispatcher;
  readonly #onChange: () => void;
  readonly #all: AgentDispatch[] = [];

  constructor(dispatchJob: Dispatcher, onChange: () => void) {
    this.#dispatchJob = dispatchJob;
    this.#onChange = onChange;
  }

  /** Every dispatch created and not deleted. */
  get all(): readonly AgentDispatch[] {
    return this.#all;
  }

  create(request: CreateAgentDispatchRequest): AgentDispatch {
    const dispatch = new AgentDispatch({
      id: newId('AD_'),
      agentName: request.agentName,
      room: request.room,
      metadata: request.metadata,
      restartPolicy: request.restartPolicy,
      deployment: request.deployment,
      state: new AgentDispatchState(),
    });
    this.#all.push(dispatch);
    const input = {
      agentName: request.agentName,
      roomName: request.room,
      metadata: request.metadata,
      dispatchId: dispatch.id,
    };
    void this.#dispatchJob(input).then((result) => {
      if (!result.accepted) return;
      dispatch.state?.jobs.push(result.job);
      this.#onChange();
    });
    return dispatch;
  }

  list(room: string, dispatchId: string): AgentDispatch[] {
    return this.#all.filter((d) => d.room === room && (dispatchId === '' || d.id === dispatchId));
  }

  /** Forgets the dispatch; jobs it started keep running (end them with `terminateJob`). */
  delete(room: string, dispatchId: string): AgentDispatch | undefined {
    const index = this.#all.findIndex((d) => d.room === room && d.id === dispatchId);
    return index === -1 ? undefined : this.#all.splice(index, 1)[0];
  }

  /**
   * Serves `POST /twirp/livekit.AgentDispatchService/<method>` (JSON). `claims` are the
   * caller's verified token claims; like LiveKit, every method needs `roomAdmin` for the room.
   */
  serve(method: string, body: unknown, claims: ClaimGrants | undefined): TwirpReply {
    if (claims === undefined) return twirpError(401, 'unauthenticated', 'invalid token');
    const options = { ignoreUnknownFields: true };
    try {
      switch (method) {
        case 'CreateDispatch': {
          const request = CreateAgentDispatchRequest.fromJson(jsonOf(body), options);
          return this.#admin(claims, request.room) ?? ok(this.create(request).toJson());
        }
        case 'ListDispatch': {
          const request = ListAgentDispatchRequest.fromJson(jsonOf(body), options);
          const agentDispatches = this.list(request.room, request.dispatchId);
          const reply = new ListAgentDispatchResponse({ agentDispatches });
          return this.#admin(claims, request.room) ?? ok(reply.toJson());
        }
        case 'DeleteDispatch': {
          const request = DeleteAgentDispatchRequest.fromJson(jsonOf(body), options);
          const denied = this.#admin(claims, request.room);
          if (denied !== undefined) return denied;
          const deleted = this.delete(request.room, request.dispatchId);
          return deleted === undefined
            ? twirpError(404, 'not_found', 'no such dispatch')
            : ok(deleted.toJson());
        }
        default:
          return twirpError(404, 'bad_route', `no method ${method}`);
      }
    } catch (error) {
      return twirpError(400, 'malformed', String(error));
    }
  }

  #admin(claims: ClaimGrants, room: string): TwirpReply | undefined {
    if (claims.video?.roomAdmin === true && claims.video.room === room) return undefined;
    return twirpError(403, 'permission_denied', `needs roomAdmin for room ${room}`);
  }
}

function ok(body: unknown): TwirpReply {
  return { status: 200, body };
}

function twirpError(status: number, code: string, msg: string): TwirpReply {
  return { status, body: { code, msg } };
}

/** protobuf-es wants its own `JsonValue`; a parsed JSON body is one. */
function jsonOf(body: unknown): Parameters<typeof CreateAgentDispatchRequest.fromJson>[0] {
  return body as Parameters<typeof CreateAgentDispatchRequest.fromJson>[0];
}

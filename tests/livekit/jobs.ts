import { randomBytes } from 'node:crypto';
import {
  type AvailabilityResponse,
  Job,
  JobState,
  JobStatus,
  JobType,
  type ParticipantInfo,
  type ParticipantPermission,
  Room,
} from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';

/** What to dispatch: the fields of LiveKit's `CreateAgentDispatchRequest` a test needs. */
export interface DispatchJobInput {
  /** The agent name a worker registered with; `''` reaches workers registered without one. */
  agentName: string;
  roomName: string;
  /** Dispatch metadata; the job's entry function reads it as `ctx.job.metadata`. */
  metadata?: string;
  /** Default `JT_ROOM`, the type agents-js workers register for. */
  jobType?: JobType;
  /** The participant a `JT_PARTICIPANT` or `JT_PUBLISHER` job is about. */
  participant?: ParticipantInfo;
  /** The explicit dispatch this job belongs to; a fresh `AD_…` id when absent. */
  dispatchId?: string;
}

/** LiveKit-style ids: a type prefix and random characters (`AJ_…` job, `AW_…` worker). */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(9).toString('base64url')}`;
}

/** The `Job` a LiveKit server would offer for this dispatch. */
export function newJob(input: DispatchJobInput, roomSid: string): Job {
  return new Job({
    id: newId('AJ_'),
    dispatchId: input.dispatchId ?? newId('AD_'),
    type: input.jobType ?? JobType.JT_ROOM,
    room: new Room({ sid: roomSid, name: input.roomName }),
    participant: input.participant,
    metadata: input.metadata ?? '',
    agentName: input.agentName,
    state: new JobState({ status: JobStatus.JS_PENDING, updatedAt: BigInt(Date.now()) }),
  });
}

/**
 * The room token LiveKit puts in a `JobAssignment`: the identity, name, metadata and
 * attributes the worker asked for in its availability answer, `kind: agent`, and a join grant
 * for the job's room limited by the permissions the worker registered with.
 */
export async function mintAgentToken(
  keys: { apiKey: string; apiSecret: string },
  job: Job,
  answer: AvailabilityResponse,
  permissions: ParticipantPermission | undefined,
): Promise<string> {
  const token = new AccessToken(keys.apiKey, keys.apiSecret, {
    identity: answer.participantIdentity || `agent-${job.id}`,
    name: answer.participantName,
    metadata: answer.participantMetadata,
    attributes: answer.participantAttributes,
    ttl: '1h',
  });
  token.kind = 'agent';
  token.addGrant({
    roomJoin: true,
    room: job.room?.name ?? '',
    agent: true,
    canPublish: permissions?.canPublish ?? true,
    canSubscribe: permissions?.canSubscribe ?? true,
    canPublishData: permissions?.canPublishData ?? true,
    canUpdateOwnMetadata: permissions?.canUpdateMetadata ?? true,
    hidden: permissions?.hidden ?? false,
  });
  return token.toJwt();
}

import { createHmac } from 'node:crypto';
import {
  type ClaimGrants,
  claimsToJwtPayload,
  RoomAgentDispatch,
  RoomConfiguration,
  TrackSource,
} from 'livekit-server-sdk';
import { LRUCache } from 'lru-cache';
import type { Config } from '../../core/config.js';
import { AppError } from '../../core/errors.js';
import { encodeDispatchMetadata, roomNameOf } from '../../core/livekit-dispatch.js';
import type { ChatRoom } from '../../db/schema.js';

export interface RoomTokenRequest {
  /** The token's identity: always the caller's user id. */
  userId: string;
  chatRoom: Pick<ChatRoom, 'id' | 'characterId'>;
  participantName: string;
  participantMetadata?: string | undefined;
  participantAttributes?: Record<string, string> | undefined;
}

export interface RoomToken {
  serverUrl: string;
  participantToken: string;
  roomName: string;
}

/** LiveKit settings with every credential present. */
export interface LiveKitCredentials {
  url: string;
  apiKey: string;
  apiSecret: string;
  agentName: string;
  tokenTtlMs: number;
}

/** The configured LiveKit credentials; `LIVEKIT.NOT_CONFIGURED` when there are none. */
export function liveKitCredentials(livekit: Config['livekit']): LiveKitCredentials {
  const { url, apiKey, apiSecret, agentName, tokenTtlMs } = livekit;
  if (url === undefined || apiKey === undefined || apiSecret === undefined) {
    throw new AppError(
      'LIVEKIT.NOT_CONFIGURED',
      'Voice and video rooms are not available: this server has no LiveKit configured',
    );
  }
  return { url, apiKey, apiSecret, agentName, tokenTtlMs };
}

/**
 * Signs a LiveKit token for one chat room. It grants joining that room, publishing the
 * microphone and camera, subscribing and sending data, and nothing else (no room admin, no
 * metadata changes, no screen share). The room configuration dispatches the character's
 * agent with the ids it needs, so the agent starts when the user joins.
 *
 * The claims are exactly those `AccessToken.toJwt` makes (a test compares the two), built from
 * the SDK's own pieces; the HS256 signature is node's HMAC, because `toJwt` imports the secret
 * into WebCrypto on every call and renders the room configuration through protobuf
 * reflection: ~0.1 ms a token, against ~0.02 ms here.
 */
export function createRoomToken(livekit: LiveKitCredentials, request: RoomTokenRequest): RoomToken {
  const roomName = roomNameOf(request.chatRoom.id);
  const nowSec = Math.floor(Date.now() / 1000);
  const claims = {
    ...claimsToJwtPayload(roomGrants(request, roomName)),
    roomConfig: agentDispatch(livekit.agentName, dispatchMetadata(request)),
    iss: livekit.apiKey,
    sub: request.userId,
    nbf: nowSec,
    exp: nowSec + Math.max(1, Math.ceil(livekit.tokenTtlMs / 1000)),
  };
  return {
    serverUrl: livekit.url,
    participantToken: signHs256(claims, livekit.apiSecret),
    roomName,
  };
}

function roomGrants(request: RoomTokenRequest, roomName: string): ClaimGrants {
  const grants: ClaimGrants = {
    name: request.participantName,
    video: {
      roomJoin: true,
      room: roomName,
      canPublish: true,
      canPublishSources: [TrackSource.MICROPHONE, TrackSource.CAMERA],
      canSubscribe: true,
      canPublishData: true,
    },
  };
  if (request.participantMetadata !== undefined) grants.metadata = request.participantMetadata;
  if (request.participantAttributes !== undefined) {
    grants.attributes = request.participantAttributes;
  }
  return grants;
}

function dispatchMetadata(request: RoomTokenRequest): string {
  return encodeDispatchMetadata({
    chatRoomId: request.chatRoom.id,
    characterId: request.chatRoom.characterId,
    userId: request.userId,
  });
}

type JsonObject = Record<string, unknown>;
/** Keyed by agent name: one per configuration, so a handful at most (tests start several). */
const dispatchTemplates = new LRUCache<string, { config: JsonObject; agent: JsonObject }>({
  max: 16,
});

/**
 * The SDK's `RoomConfiguration` dispatching `agentName` with `metadata`, as JSON.stringify
 * renders the protobuf message (default values included). Rendered once per agent name:
 * protobuf's reflection-based JSON cost as much as the signature, and per token only the
 * metadata differs.
 */
function agentDispatch(agentName: string, metadata: string): JsonObject {
  let template = dispatchTemplates.get(agentName);
  if (template === undefined) {
    const message = new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName })] });
    const config = JSON.parse(JSON.stringify(message)) as { agents: JsonObject[] };
    template = { config, agent: config.agents[0] ?? {} };
    dispatchTemplates.set(agentName, template);
  }
  return { ...template.config, agents: [{ ...template.agent, metadata }] };
}

const HS256_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

/** A compact JWS with HS256, the secret's UTF-8 bytes as the key (as LiveKit's SDKs do). */
function signHs256(claims: object, secret: string): string {
  const signingInput = `${HS256_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

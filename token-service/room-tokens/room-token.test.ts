import { decodeJwt } from 'jose';
import {
  AccessToken,
  RoomAgentDispatch,
  RoomConfiguration,
  TokenVerifier,
  TrackSource,
} from 'livekit-server-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRoomToken, type LiveKitCredentials, type RoomTokenRequest } from './room-token.js';

const livekit: LiveKitCredentials = {
  url: 'wss://livekit.test.invalid',
  apiKey: 'APItestkey',
  apiSecret: 'test-livekit-secret-that-is-long-enough-0123456789',
  agentName: 'parley-agent',
  tokenTtlMs: 600_000,
};

const request: RoomTokenRequest = {
  userId: '6f1c4f0e-8a34-4d5e-9f3b-1c2d3e4f5a6b',
  chatRoom: { id: 42, characterId: '0b7e2a55-3c1d-4e8f-a9b0-c1d2e3f4a5b6' },
  participantName: 'Ada',
  participantMetadata: '{"theme":"dark"}',
  participantAttributes: { device: 'laptop' },
};

afterEach(() => {
  vi.useRealTimers();
});

/** The same token as the SDK's `AccessToken` makes it, to compare claims with. */
async function sdkToken(): Promise<string> {
  const token = new AccessToken(livekit.apiKey, livekit.apiSecret, {
    identity: request.userId,
    name: request.participantName,
    ttl: livekit.tokenTtlMs / 1000,
    metadata: request.participantMetadata,
    attributes: request.participantAttributes,
  });
  token.addGrant({
    roomJoin: true,
    room: 'parley-chat-42',
    canPublish: true,
    canPublishSources: [TrackSource.MICROPHONE, TrackSource.CAMERA],
    canSubscribe: true,
    canPublishData: true,
  });
  const metadata = {
    chat_room_id: 42,
    character_id: request.chatRoom.characterId,
    user_id: request.userId,
  };
  token.roomConfig = new RoomConfiguration({
    agents: [
      new RoomAgentDispatch({ agentName: livekit.agentName, metadata: JSON.stringify(metadata) }),
    ],
  });
  return token.toJwt();
}

describe('createRoomToken', () => {
  it("makes exactly the claims LiveKit's AccessToken makes, and LiveKit accepts its signature", async () => {
    // Time stands still while both tokens are made, so their nbf and exp are the same second.
    vi.useFakeTimers({ toFake: ['Date'] });
    const ours = createRoomToken(livekit, request);
    expect(ours.roomName).toBe('parley-chat-42');
    expect(ours.serverUrl).toBe(livekit.url);
    expect(decodeJwt(ours.participantToken)).toEqual(decodeJwt(await sdkToken()));
    vi.useRealTimers();
    const verified = await new TokenVerifier(livekit.apiKey, livekit.apiSecret).verify(
      ours.participantToken,
    );
    expect(verified.sub).toBe(request.userId);
  });

  it('is refused by a verifier holding another secret', async () => {
    const ours = createRoomToken(livekit, request);
    const other = new TokenVerifier(
      livekit.apiKey,
      'another-secret-that-is-long-enough-0123456789',
    );
    await expect(other.verify(ours.participantToken)).rejects.toThrow();
  });
});

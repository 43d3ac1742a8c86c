import {
  type DataPacket,
  type DataPacket_Kind,
  DisconnectReason,
  JoinResponse,
  ParticipantInfo,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  ParticipantPermission,
  ParticipantUpdate,
  Room,
  ServerInfo,
  ServerInfo_Edition,
} from '@livekit/protocol';
import type { ClaimGrants } from 'livekit-server-sdk';
import type { WebSocket } from 'ws';
import { newId } from '../jobs.js';
import { Participant, type PublishedTrack, type RoomLink } from './participant.js';

/** One room's live state. */
export interface RoomState {
  readonly sid: string;
  readonly name: string;
  readonly participants: Participant[];
}

/**
 * The rooms of the test LiveKit server: who is in which room, and the fan-out between them
 * (participant updates, every published track forwarded to every other participant, data
 * packets to their destinations). Everyone is subscribed to everything (auto-subscribe).
 */
export class Rooms implements RoomLink {
  readonly #rooms = new Map<string, RoomState>();
  readonly #onChange: () => void;
  readonly #fastPublish: boolean;

  constructor(onChange: () => void, options: { fastPublish: boolean }) {
    this.#onChange = onChange;
    this.#fastPublish = options.fastPublish;
  }

  get all(): readonly RoomState[] {
    return [...this.#rooms.values()];
  }

  /** Admits a verified participant to its room and sends the join response. */
  join(socket: WebSocket, claims: ClaimGrants, roomSid: string): Participant {
    const name = claims.video?.room ?? '';
    let room = this.#rooms.get(name);
    if (room === undefined) {
      room = { sid: roomSid, name, participants: [] };
      this.#rooms.set(name, room);
    }
    // As LiveKit does, a second join with the same identity replaces the first (an SDK that
    // reconnects from scratch joins again before its old connection has timed out).
    for (const old of room.participants)
      if (old.identity === claims.sub) old.leave(DisconnectReason.DUPLICATE_IDENTITY);
    const participant = new Participant(socket, participantInfo(claims), this);
    const others = room.participants.filter((p) => p.connected);
    room.participants.push(participant);
    participant.send(
      'join',
      new JoinResponse({
        room: new Room({
          sid: room.sid,
          name,
          creationTime: BigInt(Math.floor(Date.now() / 1000)),
        }),
        participant: participant.info,
        otherParticipants: others.map((p) => p.info),
        serverVersion: '1.9.0',
        subscriberPrimary: true,
        fastPublish: this.#fastPublish && participant.info.permission?.canPublish === true,
        pingTimeout: 15,
        pingInterval: 5,
        serverInfo: new ServerInfo({
          edition: ServerInfo_Edition.Standard,
          version: '1.9.0',
          protocol: 16,
        }),
      }),
    );
    this.broadcastUpdate(participant);
    for (const other of others)
      for (const track of other.published.values()) participant.subscribe(other, track);
    void participant.negotiateSubscriber();
    this.#onChange();
    return participant;
  }

  others(self: Participant): Participant[] {
    return this.#roomOf(self)?.participants.filter((p) => p !== self && p.connected) ?? [];
  }

  broadcastUpdate(self: Participant, includeSelf = false): void {
    const update = new ParticipantUpdate({ participants: [self.info] });
    for (const other of this.others(self)) other.send('update', update);
    if (includeSelf) self.send('update', update);
    this.#onChange();
  }

  trackReady(self: Participant, track: PublishedTrack): void {
    for (const other of this.others(self)) other.subscribe(self, track);
    this.#onChange();
  }

  deliverData(self: Participant, packet: DataPacket, kind: DataPacket_Kind): void {
    const destinations = packet.destinationIdentities;
    packet.destinationIdentities = [];
    for (const other of this.others(self)) {
      if (destinations.length === 0 || destinations.includes(other.identity)) {
        other.receiveData(packet, kind);
      }
    }
  }

  left(self: Participant): void {
    this.broadcastUpdate(self);
    const room = this.#roomOf(self);
    if (room?.participants.every((p) => !p.connected)) {
      this.#rooms.delete(room.name);
    }
    this.#onChange();
  }

  /** Disconnects everyone. */
  close(): void {
    for (const room of this.#rooms.values())
      for (const p of room.participants) p.leave(DisconnectReason.ROOM_DELETED);
  }

  #roomOf(participant: Participant): RoomState | undefined {
    return [...this.#rooms.values()].find((room) => room.participants.includes(participant));
  }
}

/** The participant a token describes, with the permissions its grant gives. */
function participantInfo(claims: ClaimGrants): ParticipantInfo {
  const video = claims.video ?? {};
  const now = Date.now();
  return new ParticipantInfo({
    sid: newId('PA_'),
    identity: claims.sub ?? '',
    name: claims.name ?? '',
    metadata: claims.metadata ?? '',
    attributes: { ...(claims.attributes ?? {}) },
    state: ParticipantInfo_State.ACTIVE,
    joinedAt: BigInt(Math.floor(now / 1000)),
    joinedAtMs: BigInt(now),
    version: 1,
    kind: claims.kind === 'agent' ? ParticipantInfo_Kind.AGENT : ParticipantInfo_Kind.STANDARD,
    permission: new ParticipantPermission({
      canPublish: video.canPublish ?? true,
      canSubscribe: video.canSubscribe ?? true,
      canPublishData: video.canPublishData ?? true,
      canUpdateMetadata: video.canUpdateOwnMetadata ?? false,
      hidden: video.hidden ?? false,
      agent: video.agent ?? false,
    }),
  });
}

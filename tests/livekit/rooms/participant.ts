import {
  type AddTrackRequest,
  DataPacket,
  DataPacket_Kind,
  DisconnectReason,
  type ParticipantInfo,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  Pong,
  RequestResponse,
  RequestResponse_Reason,
  SignalRequest,
  SignalResponse,
  SignalTarget,
  TrackInfo,
  TrackPublishedResponse,
  TrackSubscribed,
  TrackType,
  type UpdateParticipantMetadata,
} from '@livekit/protocol';
import {
  MediaStreamTrack,
  type RTCDataChannel,
  type RTCPeerConnection,
  type RTCRtpReceiver,
  type RTCTrackEvent,
} from 'werift';
import { type RawData, WebSocket } from 'ws';
import { newId } from '../jobs.js';
import {
  addForwardedTrack,
  addTrickledCandidate,
  description,
  forwardKeyframeRequests,
  mediaSections,
  newServerPeer,
  trackIdsByMid,
  trickleCandidates,
} from './sfu-peer.js';

/** What a participant asks of its room: fan-out of updates, media and data. */
export interface RoomLink {
  /** Every other participant currently in the room. */
  others(self: Participant): Participant[];
  /** Tells every participant (but `self` unless `includeSelf`) that `self` changed. */
  broadcastUpdate(self: Participant, includeSelf?: boolean): void;
  /** Hands a track that started receiving media to every other participant. */
  trackReady(self: Participant, track: PublishedTrack): void;
  /** Delivers a data packet from `self` to its destinations (everyone else when none). */
  deliverData(self: Participant, packet: DataPacket, kind: DataPacket_Kind): void;
  left(self: Participant): void;
}

/** A track a participant published, with the media it receives once the client sends it. */
export interface PublishedTrack {
  info: TrackInfo;
  media: MediaStreamTrack;
  /** Where the media comes in: keyframe requests go back to the publisher through it. */
  receiver: RTCRtpReceiver;
}

/**
 * One participant's session: its signalling WebSocket (binary `SignalRequest` in,
 * `SignalResponse` out) and its two PeerConnections. Knows its own state; the room decides
 * who hears about it.
 */
export class Participant {
  readonly info: ParticipantInfo;
  readonly published = new Map<string, PublishedTrack>();
  readonly #socket: WebSocket;
  readonly #room: RoomLink;
  readonly #publisher = newServerPeer();
  readonly #subscriber = newServerPeer();
  readonly #subscriberChannels = new Map<DataPacket_Kind, RTCDataChannel>();
  /** Reliable packets that arrived before the subscriber's reliable channel opened. */
  readonly #unsentReliable: Buffer[] = [];
  /** `AddTrackRequest`s waiting for their media, by client track id (`cid`). */
  readonly #pending = new Map<string, TrackInfo>();
  readonly #unannounced: { mid: string; cid: string | undefined }[] = [];
  /** Each publisher offer's media sections, as `mid kind direction port [msid track]`. */
  readonly #offers: string[][] = [];
  /** The tracks forwarded to this participant, as `identity trackSid` of their publisher. */
  readonly #receives: string[] = [];
  #trackIdsByMid = new Map<string, string>();
  /** While set, publisher answers wait for it (see `holdPublisherAnswers`). */
  #answerHold: Promise<void> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #negotiating = false;
  #negotiateAgain = false;
  #gone = false;

  constructor(socket: WebSocket, info: ParticipantInfo, room: RoomLink) {
    this.#socket = socket;
    this.info = info;
    this.#room = room;
    socket.on('message', (data, isBinary) => {
      if (!isBinary) return;
      // One request at a time, in order: a trickled candidate must not overtake its offer.
      this.#queue = this.#queue
        .then(() => this.#onRequest(toBytes(data)))
        .catch(() => this.leave(DisconnectReason.SIGNAL_CLOSE));
    });
    socket.on('close', () => this.leave(DisconnectReason.SIGNAL_CLOSE));
    socket.on('error', () => undefined);
    trickleCandidates(this.#publisher, SignalTarget.PUBLISHER, (t) => this.send('trickle', t));
    trickleCandidates(this.#subscriber, SignalTarget.SUBSCRIBER, (t) => this.send('trickle', t));
    this.#publisher.ontrack = (event) => this.#onPublisherTrack(event);
    this.#publisher.onDataChannel.subscribe((channel) => this.#onClientChannel(channel));
    const reliable = this.#subscriber.createDataChannel('_reliable', { ordered: true });
    const lossy = this.#subscriber.createDataChannel('_lossy', {
      ordered: false,
      maxRetransmits: 0,
    });
    this.#subscriberChannels.set(DataPacket_Kind.RELIABLE, reliable);
    reliable.stateChanged.subscribe((state) => {
      if (state !== 'open') return;
      for (const bytes of this.#unsentReliable.splice(0)) reliable.send(bytes);
    });
    this.#subscriberChannels.set(DataPacket_Kind.LOSSY, lossy);
  }

  get sid(): string {
    return this.info.sid;
  }
  get identity(): string {
    return this.info.identity;
  }
  get connected(): boolean {
    return !this.#gone;
  }
  /**
   * The two PeerConnections' states and the publishing in flight, for a failing test's report:
   * tracks announced (AddTrackRequest) whose media has not arrived, and media that arrived
   * for no announced track (its mid, and the cid the offer's msid gave it); and whose tracks
   * it receives.
   */
  get peerStates() {
    return {
      publisher: `${this.#publisher.connectionState}/${this.#publisher.iceConnectionState}`,
      subscriber: `${this.#subscriber.connectionState}/${this.#subscriber.iceConnectionState}`,
      negotiating: this.#negotiating,
      announcedNotArrived: [...this.#pending.keys()],
      arrivedUnannounced: this.#unannounced,
      publisherOffers: this.#offers,
      receives: this.#receives,
    };
  }

  send<C extends NonNullable<SignalResponse['message']['case']>>(
    kind: C,
    value: Extract<SignalResponse['message'], { case: C }>['value'],
  ): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    const message = { case: kind, value } as SignalResponse['message'];
    this.#socket.send(new SignalResponse({ message }).toBinary());
  }

  /**
   * Holds this participant's publisher answers until the returned function is called, without
   * stopping its other requests: a test widens the window in which a client publishes a track
   * while its first offer still waits for an answer (rtc-node once deadlocked there).
   */
  holdPublisherAnswers(): () => void {
    let release = (): void => undefined;
    this.#answerHold = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      this.#answerHold = undefined;
      release();
    };
  }

  /** Sends the subscriber offer (data channels, forwarded tracks); later changes re-offer. */
  async negotiateSubscriber(): Promise<void> {
    if (this.#gone) return;
    if (this.#negotiating) {
      this.#negotiateAgain = true;
      return;
    }
    this.#negotiating = true;
    const offer = await this.#subscriber.createOffer();
    await this.#subscriber.setLocalDescription(offer);
    this.send('offer', description('offer', this.#subscriber.localDescription?.sdp ?? offer.sdp));
  }

  /** Starts forwarding another participant's track to this one. */
  subscribe(owner: Participant, track: PublishedTrack): void {
    const local = new MediaStreamTrack({ kind: track.media.kind });
    const sender = addForwardedTrack(this.#subscriber, local, owner.sid, track.info.sid);
    forwardKeyframeRequests(sender, track);
    this.#receives.push(`${owner.identity} ${track.info.sid}`);
    track.media.onReceiveRtp.subscribe((rtp) => {
      if (!this.#gone) local.writeRtp(rtp.clone());
    });
    void this.negotiateSubscriber();
    // The publisher learns that someone receives its track: agents wait for this before
    // they play anything (a track nobody hears is not spoken into).
    owner.send('trackSubscribed', new TrackSubscribed({ trackSid: track.info.sid }));
  }

  /**
   * Sends a data packet down this participant's subscriber data channel of that kind; until
   * that channel opens (a participant that just joined), reliable packets wait for it, lossy
   * ones are dropped.
   */
  receiveData(packet: DataPacket, kind: DataPacket_Kind): void {
    const channel = this.#subscriberChannels.get(kind);
    if (channel === undefined || this.#gone) return;
    const bytes = Buffer.from(packet.toBinary());
    if (channel.readyState === 'open') channel.send(bytes);
    else if (kind === DataPacket_Kind.RELIABLE) this.#unsentReliable.push(bytes);
  }

  /**
   * Ends this participant's session. The reason reaches the others in the participant update,
   * as from LiveKit's server: an agent closes its session only for some (a client's own leave,
   * a deleted room), not for a dropped connection that might come back.
   */
  leave(reason: DisconnectReason): void {
    if (this.#gone) return;
    this.#gone = true;
    this.info.state = ParticipantInfo_State.DISCONNECTED;
    this.info.disconnectReason = reason;
    this.#room.left(this);
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000, 'left');
    void this.#publisher.close().catch(() => undefined);
    void this.#subscriber.close().catch(() => undefined);
  }

  async #onRequest(bytes: Uint8Array): Promise<void> {
    const { message } = SignalRequest.fromBinary(bytes);
    switch (message.case) {
      case 'offer':
        return this.#answerPublisher(message.value.sdp, message.value.id);
      case 'answer':
        return this.#onSubscriberAnswer(message.value.sdp);
      case 'trickle': {
        const pc =
          message.value.target === SignalTarget.SUBSCRIBER ? this.#subscriber : this.#publisher;
        return addTrickledCandidate(pc, message.value.candidateInit);
      }
      case 'addTrack':
        return this.#addTrack(message.value);
      case 'mute':
        return this.#mute(message.value.sid, message.value.muted);
      case 'updateMetadata':
        return this.#updateMetadata(message.value);
      case 'ping':
        return this.send('pong', BigInt(Date.now()));
      case 'pingReq': {
        const pong = new Pong({
          lastPingTimestamp: message.value.timestamp,
          timestamp: BigInt(Date.now()),
        });
        return this.send('pongResp', pong);
      }
      case 'leave':
        return this.leave(DisconnectReason.CLIENT_INITIATED);
      default:
        // Subscriptions (everyone is subscribed to everything), track settings, layers and
        // sync state are accepted and ignored.
        return;
    }
  }

  async #answerPublisher(sdp: string, offerId: number): Promise<void> {
    this.#trackIdsByMid = trackIdsByMid(sdp);
    this.#offers.push(mediaSections(sdp));
    await this.#publisher.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.#publisher.createAnswer();
    await this.#publisher.setLocalDescription(answer);
    keepInactiveSections(this.#publisher);
    const local = keepBundled(this.#publisher.localDescription?.sdp ?? answer.sdp);
    const send = () => this.send('answer', description('answer', local, offerId));
    if (this.#answerHold === undefined) send();
    else void this.#answerHold.then(send);
  }

  async #onSubscriberAnswer(sdp: string): Promise<void> {
    await this.#subscriber.setRemoteDescription({ type: 'answer', sdp });
    this.#negotiating = false;
    if (this.#negotiateAgain) {
      this.#negotiateAgain = false;
      await this.negotiateSubscriber();
    }
  }

  #addTrack(request: AddTrackRequest): void {
    const info = new TrackInfo({
      sid: newId('TR_'),
      type: request.type,
      name: request.name,
      muted: request.muted,
      width: request.width,
      height: request.height,
      source: request.source,
      stereo: request.stereo,
      disableDtx: request.disableDtx,
      stream: request.stream,
      mimeType: request.type === TrackType.AUDIO ? 'audio/opus' : 'video/VP8',
    });
    this.#pending.set(request.cid, info);
    this.send('trackPublished', new TrackPublishedResponse({ cid: request.cid, track: info }));
  }

  #onPublisherTrack(event: RTCTrackEvent): void {
    const mid = event.transceiver.mid ?? '';
    const cid = this.#trackIdsByMid.get(mid);
    const info = cid === undefined ? undefined : this.#pending.get(cid);
    if (info === undefined || cid === undefined) {
      this.#unannounced.push({ mid, cid });
      return;
    }
    this.#pending.delete(cid);
    info.mid = mid;
    const track = { info, media: event.track, receiver: event.receiver };
    this.published.set(info.sid, track);
    this.info.tracks.push(info);
    this.info.isPublisher = true;
    this.info.version += 1;
    this.#room.broadcastUpdate(this, true);
    this.#room.trackReady(this, track);
  }

  #mute(trackSid: string, muted: boolean): void {
    const track = this.info.tracks.find((t) => t.sid === trackSid);
    if (track === undefined) return;
    track.muted = muted;
    this.info.version += 1;
    this.#room.broadcastUpdate(this, true);
  }

  #updateMetadata(update: UpdateParticipantMetadata): void {
    if (update.name !== '') this.info.name = update.name;
    if (update.metadata !== '') this.info.metadata = update.metadata;
    for (const [key, value] of Object.entries(update.attributes)) {
      if (value === '') delete this.info.attributes[key];
      else this.info.attributes[key] = value;
    }
    this.info.version += 1;
    this.#room.broadcastUpdate(this, true);
    if (update.requestId !== 0) {
      const reply = new RequestResponse({
        requestId: update.requestId,
        reason: RequestResponse_Reason.OK,
      });
      this.send('requestResponse', reply);
    }
  }

  #onClientChannel(channel: RTCDataChannel): void {
    const kind = channel.label === '_lossy' ? DataPacket_Kind.LOSSY : DataPacket_Kind.RELIABLE;
    if (channel.label !== '_lossy' && channel.label !== '_reliable') return;
    channel.onMessage.subscribe((data) => {
      if (typeof data === 'string') return;
      let packet: DataPacket;
      try {
        packet = DataPacket.fromBinary(data);
      } catch {
        return;
      }
      // As LiveKit does, the server asserts the sender, except that an agent may send text
      // streams on behalf of another participant: the user's own captions (lk.transcription).
      if (!(this.info.kind === ParticipantInfo_Kind.AGENT && packet.participantIdentity !== '')) {
        packet.participantIdentity = this.identity;
      }
      packet.participantSid = this.sid;
      this.#room.deliverData(this, packet, kind);
    });
  }
}

/**
 * werift recycles a transceiver whose current direction is inactive for the next remote
 * section it has no transceiver for, renaming its mid; the client still offers the old mid
 * and werift then cannot answer. rtc-node's publisher offers six receive-only sections (left
 * from its `/rtc/v1` attempt), so its second offer (a track after data) always hit this.
 */
function keepInactiveSections(pc: RTCPeerConnection): void {
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.currentDirection === 'inactive') transceiver.usedForSender = true;
  }
}

/**
 * werift answers the receive-only sections it has nothing for with port 0 (rejected), also
 * the first one that the BUNDLE group is tagged by, and libwebrtc then never connects. Such a
 * section is only inactive: say so with a bundled port.
 */
function keepBundled(sdp: string): string {
  return sdp.replace(/^m=(audio|video) 0 /gm, 'm=$1 9 ');
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

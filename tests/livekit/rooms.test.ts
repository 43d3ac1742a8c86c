import {
  AudioFrame,
  AudioSource,
  AudioStream,
  dispose,
  LocalAudioTrack,
  LocalVideoTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackPublishOptions,
  TrackSource,
  VideoBufferType,
  VideoFrame,
  VideoSource,
  VideoStream,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeLiveKitServer, startFakeLiveKitServer } from './fake-livekit-server.js';

const apiKey = 'rooms-test-key';
const apiSecret = 'rooms-test-secret-that-is-long-enough';

let server: FakeLiveKitServer;
const servers: FakeLiveKitServer[] = [];
const rooms: Room[] = [];

beforeAll(async () => {
  server = await startFakeLiveKitServer({ apiKey, apiSecret, rooms: true, waitTimeoutMs: 60_000 });
});

afterAll(async () => {
  for (const room of rooms) await room.disconnect().catch(() => undefined);
  await server?.close();
  for (const other of servers) await other.close();
  await dispose();
});

async function tokenFor(identity: string, roomName: string): Promise<string> {
  const token = new AccessToken(apiKey, apiSecret, { identity, name: identity, ttl: '10m' });
  token.addGrant({ roomJoin: true, room: roomName, canPublish: true, canSubscribe: true });
  return token.toJwt();
}

async function join(identity: string, roomName: string, on = server): Promise<Room> {
  const room = new Room();
  rooms.push(room);
  await room.connect(on.url, await tokenFor(identity, roomName), {
    autoSubscribe: true,
    dynacast: false,
  });
  return room;
}

/** 10 ms frames of a 440 Hz tone at 48 kHz, mono. */
function toneFrame(index: number): AudioFrame {
  const samples = new Int16Array(480);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (index * 480 + i)) / 48_000));
  }
  return new AudioFrame(samples, 48_000, 1, samples.length);
}

describe('the test LiveKit server serves rooms to @livekit/rtc-node', () => {
  it('lets a client join: join response, then its PeerConnection connects', async () => {
    const room = await join('ada', 'room-join');

    expect(room.isConnected).toBe(true);
    expect(room.name).toBe('room-join');
    expect(room.localParticipant?.identity).toBe('ada');
    expect(room.localParticipant?.sid).toMatch(/^PA_/);
    const state = server.rooms.find((r) => r.name === 'room-join');
    expect(state?.participants.map((p) => p.identity)).toEqual(['ada']);
  }, 60_000);

  it('forwards one participant’s audio to another, who sees the track published', async () => {
    const alice = await join('alice', 'room-media');
    const bob = await join('bob', 'room-media');
    await server.waitUntil(
      () => (alice.remoteParticipants.has('bob') ? true : undefined),
      'alice to see bob',
    );
    const subscribed = new Promise<RemoteTrack>((resolve) => {
      bob.on(RoomEvent.TrackSubscribed, (track) => resolve(track));
    });

    const source = new AudioSource(48_000, 1);
    const track = LocalAudioTrack.createAudioTrack('mic', source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await alice.localParticipant?.publishTrack(track, options);
    let index = 0;
    let sending = true;
    const pump = (async () => {
      while (sending) await source.captureFrame(toneFrame(index++));
    })();

    const remote = await subscribed;
    expect(bob.remoteParticipants.get('alice')?.trackPublications.size).toBe(1);
    let loudest = 0;
    let frames = 0;
    const reader = new AudioStream(remote, 48_000, 1).getReader();
    // Playout starts with silence until the first packets arrive: wait for the tone.
    while (loudest <= 4000 && frames++ < 1000) {
      const { value: frame, done } = await reader.read();
      if (done) break;
      for (const sample of frame.data) loudest = Math.max(loudest, Math.abs(sample));
    }
    reader.releaseLock();
    sending = false;
    await pump;
    expect(loudest).toBeGreaterThan(4000);
  }, 60_000);

  it('delivers data packets, and a track published after data still reaches the others', async () => {
    const alice = await join('alice', 'room-data');
    const bob = await join('bob', 'room-data');
    await server.waitUntil(
      () => (alice.remoteParticipants.has('bob') ? true : undefined),
      'alice to see bob',
    );
    const received = new Promise<{ payload: Uint8Array; from: string | undefined }>((resolve) => {
      bob.on(RoomEvent.DataReceived, (payload, participant) =>
        resolve({ payload, from: participant?.identity }),
      );
    });
    await alice.localParticipant?.publishData(new Uint8Array([7, 8, 9]), { reliable: true });
    expect(await received).toEqual({ payload: new Uint8Array([7, 8, 9]), from: 'alice' });

    // Publishing now renegotiates alice's publisher connection: a second offer, answered in
    // the same session (a failed answer would make the SDK rejoin under a new sid).
    const sid = alice.localParticipant?.sid;
    const subscribed = new Promise<RemoteTrack>((resolve) => {
      bob.on(RoomEvent.TrackSubscribed, (track) => resolve(track));
    });
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    const source = new AudioSource(48_000, 1);
    await alice.localParticipant?.publishTrack(
      LocalAudioTrack.createAudioTrack('mic', source),
      options,
    );
    await source.captureFrame(toneFrame(0));
    const track = await subscribed;
    expect(track.sid).toMatch(/^TR_/);
    expect(bob.remoteParticipants.get('alice')?.sid).toBe(sid);
  }, 60_000);

  it('a subscriber who arrives after the camera started gets pictures: its keyframe request reaches the publisher', async () => {
    // The encoder sends a keyframe first and then seldom: bob, who joins later, can decode
    // nothing until alice's encoder hears his PLI, which LiveKit's SFU passes on.
    const alice = await join('alice', 'room-camera');
    const source = new VideoSource(160, 120);
    const picture = new VideoFrame(
      new Uint8Array(160 * 120 * 4).fill(128),
      160,
      120,
      VideoBufferType.RGBA,
    );
    const timer = setInterval(() => source.captureFrame(picture), 100);
    try {
      const options = new TrackPublishOptions();
      options.source = TrackSource.SOURCE_CAMERA;
      await alice.localParticipant?.publishTrack(
        LocalVideoTrack.createVideoTrack('camera', source),
        options,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const bob = await join('bob', 'room-camera');
      const subscribed = new Promise<RemoteTrack>((resolve) => {
        bob.on(RoomEvent.TrackSubscribed, (track) => resolve(track));
      });
      const reader = new VideoStream(await subscribed).getReader();
      const first = await Promise.race([
        reader.read().then(({ value }) => value?.frame),
        new Promise<undefined>((resolve) => setTimeout(resolve, 15_000)),
      ]);
      reader.releaseLock();
      expect(first === undefined ? 'no picture in 15 s' : `${first.width}x${first.height}`).toBe(
        '160x120',
      );
    } finally {
      clearInterval(timer);
    }
  }, 60_000);

  it('a track published while the first offer still waits for its answer reaches the others', async () => {
    // LiveKit turns fast publish off after an ICE fallback: the SDK then negotiates on demand,
    // and rtc-node up to rtc-ffi-bindings 0.12.73 deadlocked here (rust-sdks #1252): it
    // re-offered while holding its own lock, so the track's offer never left.
    const onDemand = await startFakeLiveKitServer({
      apiKey,
      apiSecret,
      rooms: true,
      fastPublish: false,
      waitTimeoutMs: 60_000,
    });
    servers.push(onDemand);
    const alice = await join('alice', 'room-race', onDemand);
    const bob = await join('bob', 'room-race', onDemand);
    await onDemand.waitUntil(
      () => (alice.remoteParticipants.has('bob') ? true : undefined),
      'alice to see bob',
    );
    const onServer = onDemand.rooms
      .find((r) => r.name === 'room-race')
      ?.participants.find((p) => p.identity === 'alice');
    if (onServer === undefined) throw new Error('alice is not in the room on the server');
    const release = onServer.holdPublisherAnswers();
    const subscribed = new Promise<RemoteTrack>((resolve) => {
      bob.on(RoomEvent.TrackSubscribed, (track) => resolve(track));
    });

    // Data opens the publisher connection: its first offer now waits for the held answer.
    const sent = alice.localParticipant?.publishData(new Uint8Array([1]), { reliable: true });
    // The server's participant state changes without notifying waiters: poll it.
    const waitOn = { timeout: 30_000, interval: 20 };
    await vi.waitFor(() => expect(onServer.peerStates.publisherOffers).toHaveLength(1), waitOn);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    const source = new AudioSource(48_000, 1);
    const published = alice.localParticipant?.publishTrack(
      LocalAudioTrack.createAudioTrack('mic', source),
      options,
    );
    await vi.waitFor(() => expect(onServer.peerStates.announcedNotArrived).toHaveLength(1), waitOn);
    // The SDK asks for the track's negotiation shortly after its TrackPublished (debounced):
    // let it ask while the first offer is still unanswered, then answer.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    release();
    await Promise.all([sent, published]);
    await source.captureFrame(toneFrame(0));
    // The track's own offer must follow the answer (none came while rtc-node was deadlocked).

    await vi.waitFor(() => expect(onServer.peerStates.publisherOffers).toHaveLength(2), waitOn);
    const track = await subscribed;
    expect(track.sid).toMatch(/^TR_/);
  }, 60_000);
});

import {
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  LocalVideoTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type VideoSource,
} from '@livekit/rtc-node';
import { listMessages } from '../../db/queries/messages.js';
import type { Message } from '../../db/schema.js';
import { createRoomToken } from '../../token-service/room-tokens/room-token.js';
import { playInRealTime, silenceFrames, speechFrames } from '../audio/speech.js';
import { makeConversation } from '../helpers/fixtures.js';
import type { LiveKitStack } from './livekit-stack.js';

const RATE = 48_000;
const FORMAT = { sampleRate: RATE, frameMs: 10 };
/** A 10 ms frame of the agent's audio peaking above this is speech, not silence. */
const LOUD_PEAK = 1000;
/** The rate the agent's audio is read at (what the app would play). */
const HEARD_RATE = 24_000;

/** One `lk.transcription` text stream as the user's app received it. */
export interface Caption {
  text: string;
  final: boolean;
  from: string;
  at: number;
}

/**
 * A native app's user in a room of the test LiveKit server (rtc-node, as a mobile app): a new
 * user, character and chat room, a room token, the agent's audio read frame by frame (when
 * each loud 10 ms frame arrived), its captions, a microphone that says phrases in real time.
 */
export interface RoomUser {
  readonly room: Room;
  readonly chatRoomId: number;
  readonly captions: readonly Caption[];
  /** Arrival times (performance.now()) of every loud 10 ms frame of the agent's audio. */
  readonly loudFrames: readonly number[];
  /** Says `text` (flite) into the microphone, then 1.5 s of silence; times of the speech. */
  say(text: string): Promise<{ startedAt: number; endedAt: number }>;
  publishCamera(source: VideoSource): Promise<void>;
  /** The agent's `lk.agent.state` as the room server last saw it. */
  agentState(): string | undefined;
  /** Resolves once the agent is listening (its greeting or answer over). */
  listening(): Promise<void>;
  /**
   * Resolves with the first whole caption containing `words` (case-insensitive). The agent's
   * own streams say final `false` in their header and are final when they end, which is
   * when a caption is recorded here.
   */
  caption(words: string): Promise<Caption>;
  stored(): Promise<Message[]>;
  leave(): Promise<void>;
}

/** Joins a new user's room; the server dispatches the stack's worker to it. */
export async function joinAsNewUser(stack: LiveKitStack): Promise<RoomUser> {
  const { user, room: chatRoom } = await makeConversation(stack.database.db);
  const token = createRoomToken(
    { ...stack.livekit, agentName: stack.agentName, tokenTtlMs: 600_000 },
    { userId: user.id, chatRoom, participantName: 'Ada' },
  );
  const room = new Room();
  const captions: Caption[] = [];
  const loudFrames: number[] = [];
  room.on(RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === TrackKind.KIND_AUDIO) void noteLoudFrames(track, loudFrames);
  });
  room.registerTextStreamHandler('lk.transcription', (reader, participant) => {
    reader.readAll().then(
      (text) => {
        const final = reader.info.attributes?.['lk.transcription_final'] === 'true';
        captions.push({ text, final, from: participant.identity, at: performance.now() });
      },
      // A stream cut off by leaving the room is no caption; nothing waits for it.
      () => undefined,
    );
  });
  await room.connect(stack.livekit.url, token.participantToken, {
    autoSubscribe: true,
    dynacast: false,
  });
  const mic = new AudioSource(RATE, 1);
  let micPublished: Promise<unknown> | undefined;
  const server = stack.server;
  const agentState = () =>
    server.rooms
      .find((r) => r.name === room.name)
      ?.participants.find((p) => p.connected && p.info.attributes['lk.agent.state'] !== undefined)
      ?.info.attributes['lk.agent.state'];
  return {
    room,
    chatRoomId: chatRoom.id,
    captions,
    loudFrames,
    agentState,
    async say(text) {
      micPublished ??= publish(room, LocalAudioTrack.createAudioTrack('mic', mic), 'microphone');
      await micPublished;
      const speech = await speechFrames(text, FORMAT);
      const startedAt = performance.now();
      await playInRealTime(speech, (frame) => void mic.captureFrame(frame));
      const endedAt = performance.now();
      await playInRealTime(silenceFrames(1500, FORMAT), (frame) => void mic.captureFrame(frame));
      return { startedAt, endedAt };
    },
    publishCamera: (source) =>
      publish(room, LocalVideoTrack.createVideoTrack('camera', source), 'camera'),
    listening: async () => {
      await pollUntil(() => (agentState() === 'listening' ? true : undefined), 'listening');
    },
    caption: (words) =>
      pollUntil(
        () => captions.find((c) => c.text.toLowerCase().includes(words.toLowerCase())),
        () => `a caption with "${words}"; captions: ${JSON.stringify(captions.map((c) => c.text))}`,
      ),
    stored: async () =>
      (await listMessages(stack.database.db, { chatRoomId: chatRoom.id, limit: 50 })).messages,
    leave: () => room.disconnect(),
  };
}

async function publish(
  room: Room,
  track: LocalAudioTrack | LocalVideoTrack,
  kind: 'camera' | 'microphone',
): Promise<void> {
  const options = new TrackPublishOptions();
  options.source = kind === 'camera' ? TrackSource.SOURCE_CAMERA : TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant?.publishTrack(track, options);
}

/** Notes when each loud 10 ms frame of `track` arrived, until the track ends. */
async function noteLoudFrames(track: RemoteTrack, loud: number[]): Promise<void> {
  const reader = new AudioStream(track, HEARD_RATE, 1).getReader();
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) return;
    let peak = 0;
    for (const sample of frame.data) peak = Math.max(peak, Math.abs(sample));
    if (peak > LOUD_PEAK) loud.push(performance.now());
  }
}

/**
 * Resolves with the first value `probe` gives, polled every 50 ms: for state the room server
 * does not see change (what the app received, the database). Generous by default: under load
 * a job process takes tens of seconds to join.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string | (() => string),
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

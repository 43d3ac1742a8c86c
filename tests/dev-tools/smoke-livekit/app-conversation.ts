import {
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  ParticipantKind,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  Room,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { playIntoSource, silenceFrames, speechFrames } from '../../audio/speech.js';

/** The checks of one app conversation, in the order they happen. */
export type StepName =
  | 'token'
  | 'joined'
  | 'dispatched'
  | 'greeted'
  | 'heard'
  | 'answered'
  | 'captions'
  | 'stored';

/** One check: passed or not, and when it was decided, in ms since the conversation began. */
export interface Step {
  name: StepName;
  ok: boolean;
  atMs: number;
  detail: string;
}

/** One `lk.transcription` text stream, read to its end. */
export interface Caption {
  text: string;
  attributes: Record<string, string>;
  /** The participant that sent the stream (the agent sends both sides' captions). */
  from: string;
  /** How many caption streams had opened before this one: the order they began in. */
  opened: number;
}

/** A message as `GET /api/chat-rooms/:id/messages` returns it. */
export interface StoredMessage {
  seq: number;
  role: 'user' | 'character';
  text: string;
  modality: 'voice' | 'text';
  interrupted: boolean;
}

export interface AppConversationOptions {
  /** The API's base URL, e.g. `https://parley.example.com`. */
  apiUrl: string;
  /** A signed-in user's access token (Supabase, or a dev session). */
  accessToken: string;
  characterId: string;
  /** What the user says: spoken with flite, played into the room in real time. */
  question: string;
  /** Bound on each step. Default 120 s. */
  stepTimeoutMs?: number;
  /** Called as each step is decided, for a live report. */
  onStep?: (step: Step) => void;
  /** Runs once the agent has greeted and listens, before the question (a test drains there). */
  afterGreeting?: () => Promise<void>;
}

/** A conversation that passed every step; its room is still connected (the caller leaves). */
export interface AppConversation {
  room: Room;
  roomName: string;
  chatRoomId: number;
  agent: RemoteParticipant;
  /** The sid of the agent's audio track and of the user's microphone track. */
  agentTrackSid: string;
  micTrackSid: string;
  /** When the question's speech began and ended playing into the microphone (performance.now()). */
  spoken: { fromMs: number; toMs: number };
  /** The user's final caption of the question, and the agent's caption of the answer. */
  heard: Caption;
  answered: Caption;
  captions: Caption[];
  /** The room's stored messages once the question and its answer were there. */
  messages: StoredMessage[];
  steps: Step[];
}

/** Thrown when a step fails; `steps` holds every step decided, the failed one last. */
export class AppConversationFailed extends Error {
  constructor(
    message: string,
    readonly steps: Step[],
    readonly room: Room | undefined,
  ) {
    super(message);
  }
}

/**
 * What a native app does, with LiveKit's own SDK (`@livekit/rtc-node`): asks `POST /api/token`
 * for a room with the character (the standard token-source request), joins, hears the
 * greeting, asks a spoken question, hears the answer with `lk.transcription` captions for both
 * sides, and finds both messages stored. `npm run smoke:livekit` and the end-to-end tests run
 * this same function; only the URLs differ.
 */
export async function runAppConversation(
  options: AppConversationOptions,
): Promise<AppConversation> {
  const run = new StepRunner(options);
  const room = new Room();
  try {
    return await converse(run, room, options);
  } catch (error) {
    throw new AppConversationFailed(String(error), run.steps, room);
  }
}

async function converse(
  run: StepRunner,
  room: Room,
  options: AppConversationOptions,
): Promise<AppConversation> {
  const token = await run.step(
    'token',
    () => requestToken(options),
    (t) => t.room_name,
  );
  const listener = listen(room);
  await run.step(
    'joined',
    () =>
      room.connect(token.server_url, token.participant_token, {
        autoSubscribe: true,
        dynacast: false,
      }),
    () => token.server_url,
  );
  const agent = await run.step(
    'dispatched',
    () => run.until(() => agentOf(room), 'the agent'),
    (a) => a.identity,
  );
  const audio = await run.step(
    'greeted',
    async () => {
      const track = await run.until(() => audioTrackOf(agent), "the agent's audio track");
      const loud = new LoudMeter(track.track);
      await run.until(() => (loud.ms >= 500 ? loud : undefined), '0.5 s of greeting');
      return { loud, sid: track.sid ?? '' };
    },
    (a) => `${a.loud.ms} ms of speech on ${a.sid}`,
  );
  await run.until(
    () => (agent.attributes['lk.agent.state'] === 'listening' ? true : undefined),
    'the agent listening',
  );
  await options.afterGreeting?.();
  // The greeting's caption is on the agent's track too, and may still be arriving: only a
  // stream opened after the question was asked can be the answer's.
  const beforeQuestion = listener.opened();
  const { micTrackSid, spoken } = await speak(run, room, options.question);
  const heard = await run.step(
    'heard',
    () =>
      run.until(
        () => listener.captions.find((c) => isFinalOf(c, micTrackSid)),
        "the question's final caption",
      ),
    (c) => c.text,
  );
  const before = audio.loud.ms;
  await run.step(
    'answered',
    () =>
      run.until(
        () => (audio.loud.ms - before >= 1000 ? audio.loud.ms - before : undefined),
        '1 s of answer',
      ),
    (ms) => `${ms}+ ms of speech`,
  );
  const answered = await run.step(
    'captions',
    () =>
      run.until(
        () =>
          listener.captions.find(
            (c) => c.opened >= beforeQuestion && isAnswerOf(c, audio.sid, heard),
          ),
        "the answer's caption",
      ),
    (c) => c.text,
  );
  const messages = await run.step(
    'stored',
    () =>
      run.until(
        () => storedTurn(options, token.chat_room_id),
        'the stored question and answer',
        1000,
      ),
    (m) => `${m.length} messages`,
  );
  return {
    room,
    roomName: token.room_name,
    chatRoomId: token.chat_room_id,
    agent,
    agentTrackSid: audio.sid,
    micTrackSid,
    spoken,
    heard,
    answered,
    captions: listener.captions,
    messages,
    steps: run.steps,
  };
}

export interface TokenResponse {
  server_url: string;
  participant_token: string;
  room_name: string;
  chat_room_id: number;
}

/** The request LiveKit's `TokenSource.endpoint` sends, with the character as agent metadata. */
export async function requestToken(
  options: Pick<AppConversationOptions, 'apiUrl' | 'accessToken' | 'characterId'>,
): Promise<TokenResponse> {
  const response = await fetch(new URL('/api/token', options.apiUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      participant_name: 'Smoke check',
      room_config: {
        agents: [
          { agent_name: 'parley', metadata: JSON.stringify({ character_id: options.characterId }) },
        ],
      },
    }),
  });
  if (response.status !== 201) {
    throw new Error(`POST /api/token answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as TokenResponse;
}

/** Collects every `lk.transcription` stream the room receives. */
function listen(room: Room): { captions: Caption[]; opened(): number } {
  const captions: Caption[] = [];
  let opened = 0;
  room.registerTextStreamHandler('lk.transcription', (reader, participant) => {
    const attributes = reader.info.attributes ?? {};
    const order = opened++;
    reader.readAll().then(
      (text) => captions.push({ text, attributes, from: participant.identity, opened: order }),
      // A stream cut off by leaving the room is no caption; nothing waits for it.
      () => undefined,
    );
  });
  return { captions, opened: () => opened };
}

function agentOf(room: Room): RemoteParticipant | undefined {
  return [...room.remoteParticipants.values()].find(
    (p) => p.kind === ParticipantKind.AGENT || p.identity.startsWith('agent-'),
  );
}

function audioTrackOf(
  participant: RemoteParticipant,
): (RemoteTrackPublication & { track: RemoteTrack }) | undefined {
  for (const publication of participant.trackPublications.values()) {
    const track = publication.track;
    if (track !== undefined && track.kind === TrackKind.KIND_AUDIO) {
      return Object.assign(publication, { track });
    }
  }
  return undefined;
}

/** Publishes a microphone and says `text` into it in real time, then 1.5 s of silence. */
/**
 * Publishes a microphone and says `text` into it, then 1.5 s of silence. It speaks once the
 * server says the agent is subscribed, after half a second of silence (the server says so as
 * it starts the subscriber's negotiation): audio sent before the agent receives the track is
 * lost, and the first word of the question with it (seen once in many-rooms, four rooms at once).
 */
async function speak(
  run: StepRunner,
  room: Room,
  text: string,
): Promise<{ micTrackSid: string; spoken: AppConversation['spoken'] }> {
  const source = new AudioSource(48_000, 1);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  const participant = room.localParticipant;
  if (participant === undefined) throw new Error('not connected');
  const publication = await participant.publishTrack(
    LocalAudioTrack.createAudioTrack('mic', source),
    options,
  );
  let subscribed = false;
  void publication.waitForSubscription().then(() => {
    subscribed = true;
  });
  await run.until(() => (subscribed ? true : undefined), "the agent's subscription to the mic");
  const format = { sampleRate: 48_000, frameMs: 10 };
  const speech = await speechFrames(text, format);
  await playIntoSource(source, silenceFrames(500, format));
  const fromMs = performance.now();
  await playIntoSource(source, speech);
  const toMs = performance.now();
  await playIntoSource(source, silenceFrames(1500, format));
  return { micTrackSid: publication.sid ?? '', spoken: { fromMs, toMs } };
}

/** The finished transcript of the user's microphone. */
function isFinalOf(caption: Caption, micTrackSid: string): boolean {
  return (
    caption.attributes['lk.transcription_final'] === 'true' &&
    caption.attributes['lk.transcribed_track_id'] === micTrackSid &&
    caption.text.trim() !== ''
  );
}

/** The agent's caption of its answer: a whole segment of its own track, after the question. */
function isAnswerOf(caption: Caption, agentTrackSid: string, heard: Caption): boolean {
  return (
    caption.attributes['lk.transcribed_track_id'] === agentTrackSid &&
    caption.attributes['lk.segment_id'] !== heard.attributes['lk.segment_id'] &&
    caption.text.trim() !== '' &&
    caption !== heard
  );
}

/** The room's messages once the last two are the spoken question and a spoken answer. */
async function storedTurn(
  options: AppConversationOptions,
  chatRoomId: number,
): Promise<StoredMessage[] | undefined> {
  const response = await fetch(new URL(`/api/chat-rooms/${chatRoomId}/messages`, options.apiUrl), {
    headers: { authorization: `Bearer ${options.accessToken}` },
  });
  if (!response.ok) {
    throw new Error(`GET messages answered ${response.status}: ${await response.text()}`);
  }
  const { messages } = (await response.json()) as { messages: StoredMessage[] };
  const [question, answer] = messages.slice(-2);
  const spoken =
    question?.role === 'user' && question.modality === 'voice' && answer?.role === 'character';
  return spoken ? messages : undefined;
}

/** Counts the milliseconds of a remote audio track that are louder than quiet noise. */
class LoudMeter {
  ms = 0;
  constructor(track: RemoteTrack) {
    void this.read(track);
  }

  private async read(track: RemoteTrack): Promise<void> {
    const reader = new AudioStream(track, 24_000, 1).getReader();
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) return;
      let peak = 0;
      for (const sample of frame.data) peak = Math.max(peak, Math.abs(sample));
      if (peak > 1000) this.ms += (frame.samplesPerChannel / frame.sampleRate) * 1000;
    }
  }
}

/** Runs steps in order, recording each, bounding each by the step timeout. */
class StepRunner {
  readonly steps: Step[] = [];
  private readonly started = performance.now();
  private readonly timeoutMs: number;

  constructor(private readonly options: AppConversationOptions) {
    this.timeoutMs = options.stepTimeoutMs ?? 120_000;
  }

  async step<T>(name: StepName, run: () => Promise<T>, describe: (value: T) => string): Promise<T> {
    try {
      const value = await run();
      this.record({ name, ok: true, atMs: this.elapsed(), detail: describe(value) });
      return value;
    } catch (error) {
      this.record({ name, ok: false, atMs: this.elapsed(), detail: String(error) });
      throw error;
    }
  }

  /** Polls `probe` every `everyMs` until it returns a value; rejects after the step timeout. */
  async until<T>(
    probe: () => T | undefined | Promise<T | undefined>,
    what: string,
    everyMs = 50,
  ): Promise<T> {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (performance.now() > deadline) throw new Error(`no ${what} within ${this.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }

  private record(step: Step): void {
    this.steps.push(step);
    this.options.onStep?.(step);
  }
}

/** One line per step: `ok joined  +1234 ms  ws://…`. */
export function formatSteps(steps: readonly Step[]): string {
  return steps
    .map(
      (s) =>
        `${s.ok ? 'ok  ' : 'FAIL'} ${s.name.padEnd(10)} +${String(s.atMs).padStart(6)} ms  ${s.detail}`,
    )
    .join('\n');
}

/** Who talks, to whom: a signed-in user and a character they may talk to. */
export interface SmokeUser {
  accessToken: string;
  characterId: string;
}

/**
 * The user and character a check talks as. An access token given is used as is (a Supabase
 * deployment); otherwise a dev session is asked for, which the API grants only to callers on
 * its own machine. Without a character id, a private one is created for the check.
 */
/** What the character `smokeUser` creates says first. */
export const SMOKE_GREETING = 'Hello! This is the smoke check speaking.';

export async function smokeUser(
  apiUrl: string,
  given: { accessToken?: string; characterId?: string } = {},
): Promise<SmokeUser> {
  const accessToken = given.accessToken ?? (await devSession(apiUrl));
  if (given.characterId !== undefined) return { accessToken, characterId: given.characterId };
  const created = await postJson(apiUrl, '/api/characters', accessToken, {
    name: 'Smoke check',
    instructions: 'You are a friendly guide. Answer in one or two short sentences.',
    greeting: SMOKE_GREETING,
  });
  return { accessToken, characterId: String(created.id) };
}

async function devSession(apiUrl: string): Promise<string> {
  const session = await postJson(apiUrl, '/auth/dev/session', undefined, { display_name: 'Smoke' });
  return String(session.access_token);
}

async function postJson(
  apiUrl: string,
  path: string,
  accessToken: string | undefined,
  body: unknown,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
  const response = await fetch(new URL(path, apiUrl), {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

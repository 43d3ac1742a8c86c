import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type ipc, type VAD, voice } from '@livekit/agents';
import type { Config } from '../../../core/config.js';
import type { Logger } from '../../../core/logger.js';
import type { Executor } from '../../../db/client.js';
import type { Brain } from '../../brain.js';
import { type CharacterAgent, loadCharacterAgent } from '../../character-agent.js';
import { createCharacterVoice, type VoiceConfig, type VoiceModels } from '../../voice/session.js';
import { WebRtcAudioInput } from './audio-input.js';
import { WebRtcAudioOutput } from './audio-output.js';
import { CaptionOutput, sendSessionEvents } from './captions.js';
import type { ServerMessage } from './messages.js';
import { answerOffer, type CloseReason, type PeerOptions, type PeerSession } from './peer.js';
import { SharedVAD } from './shared-vad.js';
import { WebRtcVideoInput } from './video-input.js';
import { CameraVision } from './vision.js';

/** What a direct session needs, built once per process. */
export interface DirectSessionDeps {
  config: VoiceConfig & Pick<Config, 'rag'>;
  db: Executor;
  brain: Brain;
  /** The process's VAD; each call opens its own streams on it. */
  vad: VAD;
  /** Runs the end-of-turn model (`TURN_DETECTION=model`): a call has no LiveKit job's. */
  inferenceExecutor: ipc.InferenceExecutor;
  logger: Logger;
  /** ICE settings of the server's peers. */
  peer?: PeerOptions;
  /** AgentSession overrides, for tests and benchmarks. */
  sessionOverrides?: Partial<voice.AgentSessionOptions>;
}

export interface DirectSessionRequest {
  /** The browser's complete SDP offer. */
  offerSdp: string;
  /** A room the caller was already allowed into (the HTTP layer checks access). */
  chatRoomId: number;
  /** Asked before each reply: a refusal (the user's turn budget is spent) skips the reply. */
  allowTurn?: () => { code: string; message: string } | undefined;
}

/** One browser talking to one character over a direct WebRTC peer. */
export interface DirectSession {
  readonly id: string;
  readonly chatRoomId: number;
  /** The SDP answer for the browser, with every candidate in it. */
  readonly answerSdp: string;
  /** Settles when the call is over, everything is released and its messages are stored. */
  readonly ended: Promise<CloseReason>;
  /**
   * Hangs up; resolves like {@link DirectSession.ended}. With a reason, the page is told it
   * (an `ended` message on the data channel) before the peer closes.
   */
  close(reason?: { code: string; message: string }): Promise<CloseReason>;
}

/**
 * Starts a character's voice session for a browser's offer: a werift peer answering the
 * offer, its microphone as the session's audio input, the character's voice on the same
 * audio m-line, captions and state on the data channel, and the camera track (when the
 * browser sends one) as the character's vision. The session starts before the answer is
 * returned, so a failure is reported to the caller rather than to a page that thinks it is
 * connected.
 *
 * The call ends when the browser closes the peer or goes quiet (see `PeerSession`), when the
 * agent session closes itself, or on {@link DirectSession.close}; then the session is closed
 * (committing what was said), the models released and the transcript flushed.
 */
export async function startDirectSession(
  deps: DirectSessionDeps,
  request: DirectSessionRequest,
): Promise<DirectSession> {
  const id = randomUUID();
  const logger = deps.logger.child({ rtcSessionId: id, chatRoomId: request.chatRoomId });
  const vision = new CameraVision(logger);
  // The agent exists before the peer: a refused turn is reported once the channel does.
  let tell: (message: ServerMessage) => void = () => {};
  const allow = request.allowTurn;
  const turns = allow && {
    allow,
    onRefused: (refusal: { code: string; message: string }) => tell({ type: 'error', ...refusal }),
  };
  const agent = await loadCharacterAgent(
    {
      db: deps.db,
      retriever: deps.brain.retriever,
      memories: deps.brain.memory.recall,
      historyMessages: deps.config.rag.historyMessages,
    },
    request.chatRoomId,
    turns === undefined ? { vision } : { vision, turns },
  );
  const { answerSdp, session: peer } = await answerOffer(request.offerSdp, {
    ...deps.peer,
    logger,
  });
  tell = (message) => void peer.data.send(message);
  let teardown: () => Promise<void> = async () => {};
  const ended = peer.closed.then(async (reason) => {
    await teardown();
    logger.info({ event: 'rtc.session.ended', reason }, 'direct session ended');
    // The call is over and stored: what the user said is distilled in the background.
    void deps.brain.memory.keeper.ended(request.chatRoomId);
    return reason;
  });
  try {
    const call = wireCall({ deps, peer, agent, vision, logger });
    teardown = call.teardown;
    await call.session.start({ agent });
  } catch (error) {
    await peer.close();
    await ended;
    throw error;
  }
  logger.info({ event: 'rtc.session.started' }, 'direct session started');
  return {
    id,
    chatRoomId: request.chatRoomId,
    answerSdp,
    ended,
    async close(reason) {
      if (reason !== undefined && peer.data.send({ type: 'ended', ...reason })) {
        // werift's close() neither flushes the data channel nor tells the browser: give the
        // message a moment on the wire, or the page only sees the call go silent.
        await delay(ENDED_MESSAGE_GRACE_MS);
      }
      await peer.close();
      return ended;
    },
  };
}

interface CallParts {
  deps: DirectSessionDeps;
  peer: PeerSession;
  agent: CharacterAgent;
  vision: CameraVision;
  logger: Logger;
}

/** Plugs the peer's media and data channel into a new voice session; returns its teardown. */
function wireCall({ deps, peer, agent, vision, logger }: CallParts): {
  session: voice.AgentSession;
  teardown: () => Promise<void>;
} {
  const send = (message: ServerMessage) => void peer.data.send(message);
  const input = new WebRtcAudioInput({ track: peer.remoteAudio });
  const output = new WebRtcAudioOutput({ sink: peer.audioSender });
  const camera =
    peer.video === undefined ? undefined : new WebRtcVideoInput({ transceiver: peer.video });
  if (camera !== undefined) vision.follow(camera);
  // One VAD inference stream per call, shared by turn detection and the STT's utterances.
  const vad = new SharedVAD(deps.vad);
  const { session, models } = createCharacterVoice(
    {
      config: deps.config,
      openai: deps.brain.openai,
      writer: deps.brain.writer,
      vad,
      inferenceExecutor: deps.inferenceExecutor,
      logger,
      overrides: { ...deps.sessionOverrides },
    },
    agent,
  );
  session.input.audio = input;
  session.output.audio = output;
  session.output.transcription = new CaptionOutput(send);
  const stopEvents = sendSessionEvents(session, send);
  send({ type: 'state', state: 'initializing' });
  // The session may end itself (an unrecoverable error): hang up the call with it.
  session.once(voice.AgentSessionEventTypes.Close, () => void peer.close());

  const teardown = async () => {
    await closeSession(session, logger);
    stopEvents();
    await Promise.allSettled([input.close(), output.close(), camera?.close()]);
    await releaseModels(models);
    await deps.brain.writer.flush();
  };
  return { session, teardown };
}

/** How long a hang-up's `ended` message gets to leave before the peer closes. */
const ENDED_MESSAGE_GRACE_MS = 250;

/** Longest a voice session may take to close (commit what was said) before it is left behind. */
const SESSION_CLOSE_LIMIT_MS = 5_000;

async function closeSession(session: voice.AgentSession, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SESSION_CLOSE_LIMIT_MS);
  });
  try {
    const outcome = await Promise.race([session.close().then(() => 'closed' as const), limit]);
    if (outcome === 'late') logger.warn('voice session took too long to close; moving on');
  } catch (error) {
    logger.warn({ err: error }, 'voice session did not close cleanly');
  } finally {
    clearTimeout(timer);
  }
}

/** The per-session models; the VAD is shared and stays open. */
async function releaseModels(models: VoiceModels): Promise<void> {
  await Promise.allSettled([models.stt.close(), models.tts.close(), models.llm?.aclose()]);
}

import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ipc, VAD, voice } from '@livekit/agents';
import type OpenAI from 'openai';
import type { Config } from '../../../core/config.js';
import type { Logger } from '../../../core/logger.js';
import type { Executor } from '../../../db/client.js';
import { type CharacterAgent, loadCharacterAgent } from '../../character-agent.js';
import type { Retriever } from '../../conversation/retrieval.js';
import type { TranscriptWriter } from '../../conversation/transcript-writer.js';
import type { Memory } from '../../memory/memory.js';
import { createCharacterVoice, type VoiceConfig, type VoiceModels } from '../../voice/session.js';
import type { ServerMessage } from './messages.js';
import { answerOffer, type CloseReason, type PeerOptions, type PeerSession } from './peer.js';
import { SharedVAD } from './shared-vad.js';
import { CameraVision } from './vision.js';
import { WebRtcIO } from './webrtc-io.js';

/** What a direct session needs, built once per process. */
export interface DirectSessionDeps {
  config: VoiceConfig & Pick<Config, 'rag'>;
  db: Executor;
  /** The process's provider client, retrieval and transcript writer. */
  openai: OpenAI;
  retriever: Retriever;
  writer: TranscriptWriter;
  /** Memory across conversations: recalled each turn, distilled when the call ends. */
  memory?: Pick<Memory, 'recall' | 'keeper'> | undefined;
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
 * offer, plugged into the session through one {@link WebRtcIO}. The session starts before the
 * answer is returned, so a failure is reported to the caller rather than to a page that
 * thinks it is connected.
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
  const agent = await loadCallAgent(deps, request, vision, (message) => tell(message));
  const { answerSdp, session: peer } = await answerOffer(request.offerSdp, {
    ...deps.peer,
    logger,
  });
  const io = new WebRtcIO(peer, vision);
  tell = io.send;
  let teardown: () => Promise<void> = async () => {};
  const ended = peer.closed.then(async (reason) => {
    await teardown();
    logger.info({ event: 'rtc.session.ended', reason }, 'direct session ended');
    // The call is over and stored: what the user said is distilled in the background.
    void deps.memory?.keeper.ended(request.chatRoomId);
    return reason;
  });
  try {
    const call = wireCall(deps, { io, agent, logger });
    teardown = call.teardown;
    await call.session.start({ agent });
  } catch (error) {
    await peer.close();
    await ended;
    throw error;
  }
  logger.info({ event: 'rtc.session.started' }, 'direct session started');
  return { id, chatRoomId: request.chatRoomId, answerSdp, ended, close: hangUp(peer, ended) };
}

/** The call's character, its vision and (when the caller set one) its turn gate. */
function loadCallAgent(
  deps: DirectSessionDeps,
  request: DirectSessionRequest,
  vision: CameraVision,
  tell: (message: ServerMessage) => void,
): Promise<CharacterAgent> {
  const allow = request.allowTurn;
  const turns = allow && {
    allow,
    onRefused: (refusal: { code: string; message: string }) => tell({ type: 'error', ...refusal }),
  };
  const { db, retriever, writer } = deps;
  const historyMessages = deps.config.rag.historyMessages;
  return loadCharacterAgent(
    { db, retriever, writer, memories: deps.memory?.recall, historyMessages },
    request.chatRoomId,
    turns === undefined ? { vision } : { vision, turns },
  );
}

/** `DirectSession.close`: tells the page why (when there is a reason), then hangs up. */
function hangUp(peer: PeerSession, ended: Promise<CloseReason>): DirectSession['close'] {
  return async (reason) => {
    if (reason !== undefined && peer.data.send({ type: 'ended', ...reason })) {
      // werift's close() neither flushes the data channel nor tells the browser: give the
      // message a moment on the wire, or the page only sees the call go silent.
      await delay(ENDED_MESSAGE_GRACE_MS);
    }
    await peer.close();
    return ended;
  };
}

/** A new voice session for the character on the call's IO, and its teardown. */
function wireCall(
  deps: DirectSessionDeps,
  { io, agent, logger }: { io: WebRtcIO; agent: CharacterAgent; logger: Logger },
): { session: voice.AgentSession; teardown: () => Promise<void> } {
  // One VAD inference stream per call, shared by turn detection and the STT's utterances.
  const vad = new SharedVAD(deps.vad);
  const { config, openai, writer, inferenceExecutor } = deps;
  const overrides = { ...deps.sessionOverrides };
  const { session, models } = createCharacterVoice(
    { config, openai, vad, inferenceExecutor, logger, overrides },
    agent,
  );
  io.start(session);
  const teardown = async () => {
    await closeSession(session, logger);
    await io.close();
    await releaseModels(models);
    await writer.flush();
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

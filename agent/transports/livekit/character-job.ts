import type { JobContext, VAD } from '@livekit/agents';
import { voice } from '@livekit/agents';
import type OpenAI from 'openai';
import { AccessWatch } from '../../../core/access/access-watch.js';
import { talkRoom } from '../../../core/access/room-access.js';
import { type Config, loadConfig } from '../../../core/config.js';
import { AppError, isAppError } from '../../../core/errors.js';
import { type Dispatch, parseDispatchMetadata } from '../../../core/livekit-dispatch.js';
import { createLogger, type Logger } from '../../../core/logger.js';
import { type DatabaseHandle, openDatabase } from '../../../db/client.js';
import { type CharacterServices, createCharacterServices } from '../../brain.js';
import {
  type CharacterAgent,
  type LoadAgentDeps,
  loadCharacterAgent,
} from '../../character-agent.js';
import { LatestFrameVision } from '../../vision/latest-frame.js';
import { createCharacterVoice } from '../../voice/session.js';
import { checkDispatch } from './dispatch.js';
import { jobDatabasePoolSize, requireDatabaseUrl } from './options.js';
import { followParticipantCamera } from './room-camera.js';
import { closeWhenUserLeaves } from './user-leaving.js';

/** What `prewarm` leaves in each job process for the job it will run. */
export interface WorkerProcessData {
  vad?: VAD;
}

/** A job's conversation, resolved from its dispatch before anything joins the room. */
interface Conversation {
  dispatch: Dispatch;
  agent: CharacterAgent;
}

interface JobHoldings {
  services: CharacterServices;
  database: DatabaseHandle;
  vision: LatestFrameVision;
  access: AccessWatch;
  /** The room, once the dispatch is accepted: only then is its conversation distilled. */
  accepted?: number;
}

/** Errors that mean "this dispatch names no conversation this agent may hold". */
const DISPATCH_ERRORS = new Set([
  'REQUEST.INVALID',
  'ROOM.NOT_FOUND',
  'ROOM.FORBIDDEN',
  'CHARACTER.NOT_FOUND',
  'CHARACTER.UNAVAILABLE',
]);

/**
 * One LiveKit job: the character's voice conversation with one user. Resolves the dispatch
 * (chat room, character, user) against the database first, so a bad dispatch ends the job
 * with one clear log line and never joins the room; then joins, and runs the voice session
 * until the user leaves. Transcripts still buffered are stored before the process exits.
 */
export async function runCharacterJob(ctx: JobContext<WorkerProcessData>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'parley-agent' }).child({
    jobId: ctx.job.id,
    room: ctx.job.room?.name,
  });
  try {
    const dispatch = parseDispatchMetadata(ctx.job.metadata);
    const held = await openJob(ctx, config, logger);
    const { services, database, vision } = held;
    const { retriever, memory, writer } = services;
    const lookup = { config, retriever, memories: memory.recall, writer, db: database.db, vision };
    const conversation = await resolveConversation(ctx, lookup, dispatch);
    // Accepted: when the job ends, the room's conversation is distilled into memories.
    held.accepted = dispatch.chatRoomId;
    logger.info(
      {
        chatRoomId: dispatch.chatRoomId,
        characterId: conversation.agent.character.id,
        historyMessages: pastMessages(conversation.agent),
      },
      'dispatch accepted',
    );
    // A room token cannot be taken back, but the conversation can end: when the user may no
    // longer talk in the room (the character was made private), the job stops.
    held.access.watch(dispatch, (refusal) => {
      logger.info({ code: refusal.code }, 'access withdrawn; ending the conversation');
      ctx.shutdown(refusal.code);
    });
    followParticipantCamera(ctx.room, dispatch.userId, vision);
    await ctx.connect();
    await startVoiceSession(ctx, { config, openai: services.openai, logger }, conversation);
  } catch (error) {
    logFailure(logger, error);
    ctx.shutdown(isAppError(error) ? error.code : 'job failed');
  }
}

/** What one job holds until it shuts down: the database, the services, the camera, the access watch. */
async function openJob(
  ctx: JobContext<WorkerProcessData>,
  config: Config,
  logger: Logger,
): Promise<JobHoldings> {
  const database = await openDatabase({
    url: requireDatabaseUrl(config),
    dataDir: config.dataDir,
    poolSize: jobDatabasePoolSize(config),
    applicationName: 'parley-job',
  });
  const held: JobHoldings = {
    services: createCharacterServices(config, { db: database.db, logger }),
    database,
    vision: new LatestFrameVision(logger),
    access: new AccessWatch({ db: database.db, logger }),
  };
  ctx.addShutdownCallback(() => release(held));
  return held;
}

/** How many stored messages the conversation resumes with. */
function pastMessages(agent: CharacterAgent): number {
  return agent.chatCtx.items.filter(
    (item) => item.type === 'message' && (item.role === 'user' || item.role === 'assistant'),
  ).length;
}

async function resolveConversation(
  ctx: JobContext<WorkerProcessData>,
  deps: Pick<LoadAgentDeps, 'db' | 'retriever' | 'memories' | 'writer'> & {
    config: Config;
    vision: LatestFrameVision;
  },
  dispatch: Dispatch,
): Promise<Conversation> {
  const agent = await loadCharacterAgent(
    { ...deps, historyMessages: deps.config.rag.historyMessages },
    dispatch.chatRoomId,
    { vision: deps.vision },
  );
  checkDispatch(dispatch, {
    roomName: ctx.job.room?.name,
    chatRoom: agent.chatRoom,
    character: agent.character,
  });
  // The same access rule as every way in: a token issued before a character was made private
  // still reaches LiveKit, but no agent answers it.
  await talkRoom(deps.db, dispatch.userId, dispatch.chatRoomId);
  return { dispatch, agent };
}

async function startVoiceSession(
  ctx: JobContext<WorkerProcessData>,
  deps: { config: Config; openai: OpenAI; logger: Logger },
  { dispatch, agent }: Conversation,
): Promise<void> {
  const vad = ctx.proc.userData.vad;
  if (vad === undefined) throw new AppError('INTERNAL', 'The job process was not prewarmed');
  // The end-of-turn model (TURN_DETECTION=model) runs in the worker's inference process.
  const { session } = createCharacterVoice(
    { ...deps, vad, inferenceExecutor: ctx.inferenceExecutor },
    agent,
  );
  // The session closes when the user leaves the room (the reply being spoken is stored as far
  // as it was played): the job has nothing more to do.
  session.on(voice.AgentSessionEventTypes.Close, () => ctx.shutdown('conversation ended'));
  closeWhenUserLeaves(ctx.room, dispatch.userId, session, deps.logger);
  await session.start({
    agent,
    room: ctx.room,
    // Only the dispatch's user is heard; the token service makes the user id their identity.
    inputOptions: { participantIdentity: dispatch.userId, closeOnDisconnect: false },
    // Captions go to the room as `lk.transcription` text streams, in step with the speech.
    outputOptions: { transcriptionEnabled: true, syncTranscription: true },
  });
}

/** Stores what the transcript writer still holds, then lets go of the database. */
async function release(held: JobHoldings): Promise<void> {
  held.vision.stop();
  held.access.close();
  try {
    await held.services.writer.flush();
    if (held.accepted !== undefined) await held.services.memory.keeper.ended(held.accepted);
  } finally {
    await held.database.close();
  }
}

function logFailure(logger: Logger, error: unknown): void {
  if (isAppError(error) && DISPATCH_ERRORS.has(error.code)) {
    logger.error(
      { code: error.code, details: error.details, reason: error.message },
      'dispatch rejected',
    );
    return;
  }
  logger.error(
    { err: error, code: isAppError(error) ? error.code : undefined },
    'character job failed',
  );
}

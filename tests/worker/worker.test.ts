import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { JobType } from '@livekit/protocol';
import { dispose, Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomNameOf } from '../../core/livekit-dispatch.js';
import { type DatabaseHandle, openDatabase } from '../../db/client.js';
import { getOrCreateChatRoom } from '../../db/queries/chat-rooms.js';
import { appendMessage } from '../../db/queries/messages.js';
import type { Character, ChatRoom, UserProfile } from '../../db/schema.js';
import { createRoomToken } from '../../token-service/room-tokens/room-token.js';
import { copyTemplate, serveOverWire, type WireServer } from '../helpers/database.js';
import { makeConversation } from '../helpers/fixtures.js';
import {
  type FakeLiveKitServer,
  type FakeWorker,
  startFakeLiveKitServer,
} from '../livekit/fake-livekit-server.js';
import { NO_MEDIA_SERVER } from '../livekit/room-join.js';
import { type LogLine, startWorkerProcess, type WorkerProcess } from './worker-process.js';

const apiKey = 'worker-test-key';
const apiSecret = 'worker-test-secret-long-enough-for-hs256';
const agentName = 'parley-worker-test';

let server: FakeLiveKitServer;
let dataDir: string;
let wire: WireServer;
let database: DatabaseHandle;
let worker: WorkerProcess;
let serverSide: FakeWorker;
let mira: { user: UserProfile; character: Character; room: ChatRoom };
let other: { user: UserProfile; character: Character; room: ChatRoom };
/** Other's room with Mira's character, which is private: other may no longer talk there. */
let hiddenRoom: ChatRoom;

function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LIVEKIT_URL: server.url,
    LIVEKIT_API_KEY: apiKey,
    LIVEKIT_API_SECRET: apiSecret,
    LIVEKIT_AGENT_NAME: agentName,
    DATABASE_URL: wire.url,
    DATABASE_POOL_SIZE: '1',
    // Debug: the agents framework reports its job processes starting only at this level.
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

const forJob = (jobId: string, msg: string) => (line: LogLine) =>
  line.jobId === jobId && line.msg === msg;

beforeAll(async () => {
  server = await startFakeLiveKitServer({ apiKey, apiSecret, waitTimeoutMs: 90_000 });
  dataDir = await copyTemplate();
  // The worker, its job processes and the test each hold connections of their own.
  wire = await serveOverWire(dataDir, 10);
  database = await openDatabase({ url: wire.url, dataDir, poolSize: 1 });
  mira = await makeConversation(database.db);
  other = await makeConversation(database.db);
  hiddenRoom = await getOrCreateChatRoom(database.db, {
    userId: other.user.id,
    characterId: mira.character.id,
  });
  await appendMessage(database.db, {
    chatRoomId: mira.room.id,
    sender: 'user',
    text: 'Which planet is brightest tonight?',
    modality: 'text',
    clientId: randomUUID(),
  });
  worker = startWorkerProcess(workerEnv());
  serverSide = await server.waitForWorker(agentName);
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  await server?.close();
  await database?.close();
  await wire?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await dispose();
});

describe('the Parley agent worker (npm run agent) against a LiveKit server', () => {
  it('registers for room jobs under its configured agent name', () => {
    expect(serverSide).toMatchObject({ registered: true, agentName, jobType: JobType.JT_ROOM });
    expect(serverSide.received[0]?.message.case).toBe('register');
    expect(serverSide.permissions?.canPublish).toBe(true);
    expect(serverSide.permissions?.canSubscribe).toBe(true);
  });

  it('is dispatched by a token-service room token and resolves that chat room and character before joining', async () => {
    const roomName = roomNameOf(mira.room.id);
    const livekit = { url: server.url, apiKey, apiSecret, agentName, tokenTtlMs: 60_000 };
    const token = await createRoomToken(livekit, {
      userId: mira.user.id,
      chatRoom: mira.room,
      participantName: 'Ada',
    });

    // The user's join creates the room; LiveKit then dispatches the agent the token names.
    await expect(new Room().connect(server.url, token.participantToken)).rejects.toThrow(
      NO_MEDIA_SERVER,
    );
    const dispatch = await server.waitUntil(
      () => server.dispatches.find((d) => d.job.room?.name === roomName),
      `the dispatch for ${roomName}`,
    );
    expect(dispatch).toMatchObject({ accepted: true, workerId: serverSide.id });
    const jobId = dispatch.job.id;

    const accepted = await worker.waitForLog(forJob(jobId, 'dispatch accepted'), 'acceptance');
    expect(accepted).toMatchObject({
      name: 'parley-agent',
      level: 30,
      room: roomName,
      chatRoomId: mira.room.id,
      characterId: mira.character.id,
      // The conversation resumes with the message stored before the call.
      historyMessages: 1,
    });
    expect(JSON.stringify(accepted)).not.toContain(mira.user.id);

    const join = await server.waitForJoinAttempt(jobId);
    expect(join).toMatchObject({
      tokenValid: true,
      identity: `agent-${jobId}`,
      roomName,
      kind: 'agent',
    });
    // Without a media server the join is refused, and the job says so and ends.
    const failed = await worker.waitForLog(forJob(jobId, 'character job failed'), 'the failure');
    expect(String(failed.err && (failed.err as { message?: string }).message)).toContain(
      NO_MEDIA_SERVER,
    );
  }, 180_000);

  it('rejects a bad dispatch with one clear log line, without joining the room', async () => {
    // One failure per stage: the metadata, the database lookup, the check against the row.
    const cases = [
      {
        metadata: JSON.stringify({ chat_room_id: '7', character_id: mira.character.id }),
        code: 'REQUEST.INVALID',
        detail: 'chat_room_id',
      },
      {
        metadata: metadataFor(2_000_000_000, mira.character.id, mira.user.id),
        roomName: roomNameOf(2_000_000_000),
        code: 'ROOM.NOT_FOUND',
      },
      {
        // Well-formed, but the room is not this user's: found out only from the database.
        metadata: metadataFor(mira.room.id, mira.character.id, other.user.id),
        code: 'REQUEST.INVALID',
        detail: 'user_id: not the chat room’s user',
      },
      {
        // A token issued while the character was public still dispatches: nobody answers.
        metadata: metadataFor(hiddenRoom.id, mira.character.id, other.user.id),
        roomName: roomNameOf(hiddenRoom.id),
        code: 'CHARACTER.UNAVAILABLE',
      },
    ];
    const results = await Promise.all(
      cases.map(async (c) => {
        const roomName = c.roomName ?? roomNameOf(mira.room.id);
        const result = await server.dispatchJob({ agentName, roomName, metadata: c.metadata });
        expect(result.accepted).toBe(true);
        const line = await worker.waitForLog(forJob(result.job.id, 'dispatch rejected'), c.code);
        return { c, jobId: result.job.id, line };
      }),
    );

    for (const { c, jobId, line } of results) {
      expect(line).toMatchObject({ level: 50, code: c.code });
      if (c.detail !== undefined)
        expect(line.details).toContainEqual(expect.stringContaining(c.detail));
      expect(server.joinAttempts.filter((a) => a.jobId === jobId)).toEqual([]);
      expect(worker.logs.filter(forJob(jobId, 'dispatch accepted'))).toEqual([]);
    }
  }, 240_000);

  it('never receives a job dispatched to another agent name', async () => {
    const result = await server.dispatchJob({
      agentName: 'another-agent',
      roomName: roomNameOf(other.room.id),
      metadata: metadataFor(other.room.id, other.character.id, other.user.id),
    });

    expect(result).toMatchObject({ accepted: false, outcome: 'no_worker' });
    const offered = serverSide.sent.flatMap((m) =>
      m.message.case === 'availability' ? [m.message.value.job?.id] : [],
    );
    expect(offered.length).toBeGreaterThan(0);
    expect(offered).not.toContain(result.job.id);
    expect(worker.logs.some((line) => line.jobId === result.job.id)).toBe(false);
  });

  it('leaves LiveKit and exits on SIGTERM once nothing is running', async () => {
    // agents-js loses a shutdown request sent to a job process still starting (and waits a
    // minute for it), so wait until the pool is warm again: every job took one process, and
    // `start` keeps min(cores, 4) idle ones.
    const jobsRun = server.dispatches.filter((d) => d.accepted).length;
    const warm = jobsRun + Math.min(availableParallelism(), 4);
    const initialized = () => worker.logs.filter((l) => l.msg === 'job runner initialized');
    await worker.waitUntil(
      () => (initialized().length >= warm ? true : undefined),
      `${warm} job processes initialized`,
    );
    worker.child.kill('SIGTERM');

    expect(await worker.exited()).toBe(143);
    await server.waitUntil(() => (serverSide.connected ? undefined : true), 'the worker to leave');
  }, 120_000);
});

describe('the agent worker without a database URL', () => {
  it('refuses to start and says why', async () => {
    const env = workerEnv();
    delete env.DATABASE_URL;
    const lonely = startWorkerProcess(env);

    const line = await lonely.waitForLog((l) => l.msg === 'agent worker cannot start', 'refusal');
    expect(line).toMatchObject({ code: 'CONFIG.INVALID' });
    expect(String(line.reason)).toContain('DATABASE_URL is not set');
    expect(await lonely.exited()).toBe(1);
  }, 120_000);
});

function metadataFor(chatRoomId: number, characterId: string, userId: string): string {
  return JSON.stringify({ chat_room_id: chatRoomId, character_id: characterId, user_id: userId });
}

import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clientKey } from '../../agent/conversation/message-keys.js';
import {
  type OpenAIEmulator,
  startOpenAIEmulator,
} from '../dev-tools/providers/openai-emulator.js';
import { freePort } from '../helpers/ports.js';
import { type PostgresServer, startPostgresServer } from '../helpers/postgres-server.js';
import { type ChatClient, connectChat, ofType } from '../http/ws-client.js';
import { type FakeLiveKitServer, startFakeLiveKitServer } from '../livekit/fake-livekit-server.js';
import { type ApiProcess, sharedKeyDataDirs, startApiProcess } from './api-process.js';
import { type AckedMessage, startChatLoad } from './chat-load.js';
import { startDocumentLoad } from './document-load.js';
import { startVoiceLoad } from './voice-load.js';

/**
 * Two API processes and one agent worker on one PostgreSQL, as a deployment past one machine
 * runs them: appends to one room from both, caches of one against changes through the
 * other, and the database restarting under them. Every check runs under load, started before
 * the first and checked after the last: 200 chat clients spread over both processes, a voice
 * call on each process's direct WebRTC path, and documents being ingested. Counts are
 * bounded; every wait polls with a deadline, and the only clock in an assertion is the
 * README's 5 s promise.
 */
const livekitKey = { apiKey: 'several-key', apiSecret: 'several-secret-long-enough-for-hs256' };
const agentName = 'parley-several';
/** The README: an edit or a visibility switch reaches every turn and token within 5 s. */
const PROPAGATION_MS = 5_000;
/** The load: 20 users with 10 sockets each into their own room, half on each process. */
const LOAD_USERS = 20;
const LOAD_CLIENTS_PER_USER = 10;
/** A turn every 5 s per socket: ~40 turns a second over both processes. */
const LOAD_GAP_MS = 5_000;
/** What the voice callers say; the emulated Whisper hears it in any audio. */
const VOICE_SENTENCE = 'tell me about the comet';

let pg: PostgresServer;
let sql: postgres.Sql;
let emulator: OpenAIEmulator;
let livekit: FakeLiveKitServer;
let dirs: string[] = [];
let a: ApiProcess;
let b: ApiProcess;
let owner: { token: string; userId: string };
let characterId: string;
let workerPort: number;
const clients: ChatClient[] = [];
let load: Awaited<ReturnType<typeof startLoad>>;
/** When the restart test took the database down and when it was back, `performance.now()`. */
const outage = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };

beforeAll(async () => {
  const binDir = inject('postgresBinDir');
  if (binDir === undefined) throw new Error('the postgres project provides postgresBinDir');
  // Its own cluster, durable (fsync on): this file restarts it.
  pg = await startPostgresServer({ binDir, fast: false });
  sql = postgres(pg.url(), { max: 2, onnotice: () => {} });
  await sql`create database parley`;
  await sql.end();
  sql = postgres(pg.url('parley'), { max: 2, onnotice: () => {} });
  emulator = await startOpenAIEmulator({ defaultTranscript: VOICE_SENTENCE });
  livekit = await startFakeLiveKitServer({ ...livekitKey, waitTimeoutMs: 240_000 });
  dirs = await sharedKeyDataDirs(2);
  const common = {
    DATABASE_URL: pg.url('parley'),
    DATABASE_POOL_SIZE: '5',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: emulator.baseURL,
  };
  workerPort = await freePort();
  // With LiveKit configured, `npm start` runs the agent worker as its child: process A has it.
  const livekitEnv = {
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekitKey.apiKey,
    LIVEKIT_API_SECRET: livekitKey.apiSecret,
    LIVEKIT_AGENT_NAME: agentName,
    // AGENT_HTTP_PORT=0 is not honoured (the worker binds 8081): a free port instead.
    AGENT_HTTP_PORT: String(workerPort),
  };
  // Both start at once on an empty database: both migrate.
  [a, b] = await Promise.all([
    startApiProcess({ ...common, ...livekitEnv, DATA_DIR: dirs[0] ?? '' }),
    startApiProcess({ ...common, DATA_DIR: dirs[1] ?? '' }),
  ]);
  owner = await devSession(a);
  characterId = await createCharacter(b, owner.token);
  load = await startLoad();
}, 300_000);

/** Starts the chat, voice and document load on a character of its own (the tests change theirs). */
async function startLoad() {
  const apis = [a, b];
  const loadOwner = await devSession(a);
  const loadCharacter = await createCharacter(b, loadOwner.token);
  const users = await Promise.all(
    Array.from({ length: LOAD_USERS + 2 }, (_, i) => devSession(apis[i % 2] as ApiProcess)),
  );
  const tokens = users.map((user) => user.token);
  const chatLoad = await startChatLoad({
    apis,
    tokens: tokens.slice(0, LOAD_USERS),
    clientsPerUser: LOAD_CLIENTS_PER_USER,
    characterId: loadCharacter,
    gapMs: LOAD_GAP_MS,
    maxTurns: 60,
  });
  const voiceLoad = await startVoiceLoad({
    apis,
    tokens: tokens.slice(LOAD_USERS),
    characterId: loadCharacter,
    sentence: VOICE_SENTENCE,
    maxTurns: 40,
  });
  const documentLoad = startDocumentLoad({
    apis,
    token: loadOwner.token,
    characterId: loadCharacter,
    maxDocuments: 40,
  });
  return { chat: chatLoad, voice: voiceLoad, documents: documentLoad };
}

/**
 * Waits until the chat load acknowledged more than `before` messages: the load was still
 * flowing when a check ended, so the check ran under it.
 */
async function stillUnderLoad(before: number): Promise<void> {
  for (let waited = 0; load.chat.report.acknowledged.length <= before; waited += 250) {
    if (waited > 120_000) throw new Error('the chat load stopped flowing');
    await sleep(250);
  }
}

afterAll(async () => {
  await load?.chat.stop();
  await load?.voice.stop().catch(() => undefined);
  await load?.documents.stop();
  for (const client of clients) client.socket.terminate();
  await Promise.all([a?.stop(), b?.stop()]);
  await sql?.end();
  await pg?.stop();
  await livekit?.close();
  await emulator?.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}, 120_000);

async function devSession(api: ApiProcess): Promise<{ token: string; userId: string }> {
  const response = await fetch(`${api.base}/auth/dev/session`, { method: 'POST' });
  const body = (await response.json()) as { access_token: string; user: { id: string } };
  return { token: body.access_token, userId: body.user.id };
}

async function call(api: ApiProcess, token: string, method: string, path: string, body?: object) {
  return fetch(`${api.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createCharacter(api: ApiProcess, token: string): Promise<string> {
  const response = await call(api, token, 'POST', '/api/characters', {
    name: 'Mira',
    instructions: 'You are Mira, a patient astronomy guide.',
    is_public: true,
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

function chat(api: ApiProcess, token: string): ChatClient {
  const client = connectChat(
    `${api.base.replace('http', 'ws')}/ws/chat?character_id=${characterId}`,
    {
      token,
    },
  );
  clients.push(client);
  return client;
}

/** Sends one message and resolves with the stored user message and reply (or an error frame). */
async function turn(client: ChatClient, clientId: string, text: string) {
  client.send({ type: 'message', client_id: clientId, text });
  const reply = client.next(ofType('message', { role: 'character', client_id: clientId }));
  const failed = client.next(ofType('error', { client_id: clientId }));
  // A socket its process closed (or lost) answers nothing more: that is an error too.
  const closed = client.closed.then((code) => ({ type: 'error', code: `closed ${code}` }));
  const first = await Promise.race([reply, failed, closed]);
  if (first.type === 'error') return { error: first };
  const user = await client.next(ofType('message', { role: 'user', client_id: clientId }));
  return { user, reply: first };
}

interface StoredRow {
  id: number;
  seq: number;
  sender: string;
  text: string;
  client_id: string | null;
}

async function roomRows(chatRoomId: number): Promise<StoredRow[]> {
  return sql<StoredRow[]>`select id::int as id, seq, sender, text, client_id from messages
                          where chat_room_id = ${chatRoomId} order by seq`;
}

/**
 * The last chat request the emulator got for a user message with this text: the one whose
 * reply was kept (a process whose remembered history turned out stale abandons its early
 * request and asks again with the history read from the database).
 */
function promptFor(text: string) {
  return emulator.requests.chatCompletions.findLast((request) =>
    request.messages.some((m) => m.role === 'user' && String(m.content).includes(text)),
  );
}

describe('two API processes and an agent worker on one PostgreSQL', () => {
  it('keeps seq gapless and client ids unique when both processes append to one room', async () => {
    const perProcess = 4;
    const sides = [a, b].flatMap((api, p) =>
      Array.from({ length: perProcess }, (_, c) => ({ client: chat(api, owner.token), p, c })),
    );
    const ready = await Promise.all(sides.map((side) => side.client.next(ofType('ready'))));
    const chatRoomId = Number(ready[0]?.chat_room_id);
    expect(new Set(ready.map((frame) => frame.chat_room_id))).toEqual(new Set([chatRoomId]));
    // Every client sends three messages; each client id is then sent again on the OTHER process.
    await Promise.all(
      sides.map(async ({ client, p, c }) => {
        for (let m = 0; m < 3; m++) {
          const result = await turn(
            client,
            `p${p}-c${c}-m${m}`,
            `process ${p} client ${c} says ${m}`,
          );
          expect(result.error).toBeUndefined();
        }
      }),
    );
    const before = await roomRows(chatRoomId);
    const again = await Promise.all(
      sides.map(({ p, c }) => {
        const other = sides.find((side) => side.p !== p && side.c === c);
        return turn(other?.client as ChatClient, `p${p}-c${c}-m0`, 'sent twice');
      }),
    );
    for (const [i, { p, c }] of sides.entries()) {
      const stored = before.find((row) => row.client_id === clientKey(`p${p}-c${c}-m0`));
      expect(again[i]?.user?.id).toBe(stored?.id);
    }
    const rows = await roomRows(chatRoomId);
    expect(rows).toEqual(before);
    // 24 user messages and 24 replies (the character has no greeting), numbered 1 to 48.
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(rows.filter((row) => row.sender === 'user')).toHaveLength(24);
    const clientIds = rows.map((row) => row.client_id);
    expect(new Set(clientIds).size).toBe(clientIds.length);
    await stillUnderLoad(load.chat.report.acknowledged.length);
  }, 300_000);

  it('serves a turn on one process with the history and persona the other changed', async () => {
    const onA = chat(a, owner.token);
    const onB = chat(b, owner.token);
    await Promise.all([onA.next(ofType('ready')), onB.next(ofType('ready'))]);
    // B has the room's history and the character in memory after a turn of its own.
    expect((await turn(onB, 'history-1', 'first on B')).error).toBeUndefined();
    expect((await turn(onA, 'history-2', 'the comet from A')).error).toBeUndefined();
    expect((await turn(onB, 'history-3', 'second on B')).error).toBeUndefined();
    const history = promptFor('second on B')?.messages.map((m) => String(m.content)) ?? [];
    expect(history.some((content) => content.includes('the comet from A'))).toBe(true);

    const edited = await call(a, owner.token, 'PATCH', `/api/characters/${characterId}`, {
      instructions: 'You are Zed, a terse comet hunter.',
    });
    expect(edited.status).toBe(200);
    await sleep(PROPAGATION_MS + 250);
    expect((await turn(onB, 'persona-1', 'who are you now')).error).toBeUndefined();
    const system = promptFor('who are you now')?.messages.find((m) => m.role === 'system');
    expect(String(system?.content)).toContain('You are Zed, a terse comet hunter.');
    await stillUnderLoad(load.chat.report.acknowledged.length);
  }, 180_000);

  it('refuses a room token on one process once the other made the character private', async () => {
    const guest = await devSession(b);
    const asGuest = () => call(a, guest.token, 'POST', '/api/token', { character_id: characterId });
    // Process A now remembers the character as public.
    expect((await asGuest()).status).toBe(201);
    const hidden = await call(b, owner.token, 'PATCH', `/api/characters/${characterId}`, {
      is_public: false,
    });
    expect(hidden.status).toBe(200);
    await sleep(PROPAGATION_MS + 250);
    expect((await asGuest()).status).toBe(404);
    await stillUnderLoad(load.chat.report.acknowledged.length);
  }, 120_000);

  it('loses no acknowledged message across a PostgreSQL restart, and every process recovers', async () => {
    const sides = [a, b].flatMap((api, p) =>
      Array.from({ length: 3 }, (_, c) => ({ client: chat(api, owner.token), p, c })),
    );
    const ready = await Promise.all(sides.map((side) => side.client.next(ofType('ready'))));
    const chatRoomId = Number(ready[0]?.chat_room_id);
    const acknowledged: Record<string, unknown>[] = [];
    let restarted: Promise<void> | undefined;
    await Promise.all(
      sides.map(async ({ client, p, c }) => {
        for (let m = 0; m < 4; m++) {
          const clientId = `restart-p${p}-c${c}-m${m}`;
          // The first client to finish a message restarts the server under everyone else.
          if (m === 1) restarted ??= restartServer();
          // A turn the outage broke is sent again with its client id, as a client retries.
          for (let attempt = 0; attempt < 60; attempt++) {
            const result = await turn(client, clientId, `restart ${p} ${c} ${m}`);
            if (result.error === undefined) {
              acknowledged.push(result.user, result.reply);
              break;
            }
            await sleep(500);
          }
        }
      }),
    );
    await restarted;
    expect(acknowledged).toHaveLength(sides.length * 4 * 2);
    const rows = await roomRows(chatRoomId);
    for (const frame of acknowledged) {
      expect(rows.find((row) => row.id === frame.id)).toMatchObject({
        seq: frame.seq,
        text: frame.text,
      });
    }
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i + 1));
    // Both processes answer and store on their own, with no restart of theirs.
    for (const api of [a, b]) {
      expect((await fetch(`${api.base}/ready`)).status).toBe(200);
      const client = chat(api, owner.token);
      await client.next(ofType('ready'));
      expect((await turn(client, `after-${api.base}`, 'still there?')).error).toBeUndefined();
    }
    // The agent worker (process A's child) is still up and registered.
    expect((await fetch(`http://127.0.0.1:${workerPort}/`)).status).toBe(200);
    await stillUnderLoad(load.chat.report.acknowledged.length);
  }, 300_000);

  it('lost nothing of the load it ran under: chat, voice calls and ingestion', async () => {
    const chatReport = await load.chat.stop();
    const voiceReport = await load.voice.stop();
    const documents = await load.documents.stop();
    // Chat: every turn acknowledged (after retries across the outage), each acknowledged
    // message stored as it was acknowledged, every room numbered without a gap.
    expect(chatReport.abandoned).toEqual([]);
    expect(chatReport.acknowledged.length).toBeGreaterThanOrEqual(chatReport.clients * 2);
    await expectStored(chatReport.acknowledged);
    // Voice: each call heard at least one reply, and its room holds the turns as voice.
    for (const call of voiceReport.calls) {
      const replies = call.captions.filter((c) => c.role === 'character');
      expect(replies.length).toBeGreaterThan(0);
      const rows = await roomRows(call.chatRoomId);
      expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i + 1));
      const stored = rows.filter((row) => row.sender === 'character').map((row) => row.text);
      for (const reply of replies) expect(stored).toContain(reply.text);
    }
    // Ingestion: every upload that did not overlap the outage is ready, all its chunks stored.
    const clear = documents.filter((d) => d.settledAt < outage.from || d.sentAt > outage.to);
    expect(clear.length).toBeGreaterThan(0);
    for (const document of clear) {
      expect(document.status).toBe('ready');
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from knowledge_chunks
                                               where document_id = ${document.id}`;
      expect(row?.n).toBe(document.chunkCount);
      expect(document.chunkCount).toBeGreaterThan(0);
    }
  }, 300_000);
});

/** Restarts PostgreSQL and notes when it was down, for the load's checks. */
async function restartServer(): Promise<void> {
  outage.from = performance.now();
  await pg.restart();
  outage.to = performance.now();
}

/** Every acknowledged message is stored with its id, seq and text; each room is gapless. */
async function expectStored(acknowledged: AckedMessage[]): Promise<void> {
  const rooms = new Set(acknowledged.map((m) => m.chatRoomId));
  for (const chatRoomId of rooms) {
    const rows = await roomRows(chatRoomId);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i + 1));
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const message of acknowledged.filter((m) => m.chatRoomId === chatRoomId)) {
      expect(byId.get(message.id)).toMatchObject({ seq: message.seq, text: message.text });
    }
  }
}

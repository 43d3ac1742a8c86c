/**
 * `npm run bench -- postgres`: Parley as separate `npm start` processes on one real
 * PostgreSQL (two API processes) and, beside it in the same run, one process on the embedded
 * PGlite (one process per data directory). The same WebSocket clients chat saturated on each
 * for the same time; the section reports messages stored per second and, on PostgreSQL, the
 * connections each process role holds (`pg_stat_activity` by `application_name`, sampled
 * every 500 ms: the most seen, and what is left once the load stops).
 */
import { rm } from 'node:fs/promises';
import postgres from 'postgres';
import { startOpenAIEmulator } from '../tests/dev-tools/providers/openai-emulator.js';
import { findPostgres, startPostgresServer } from '../tests/helpers/postgres-server.js';
import { connectChat, ofType } from '../tests/http/ws-client.js';
import {
  type ApiProcess,
  sharedKeyDataDirs,
  startApiProcess,
} from '../tests/postgres/api-process.js';
import { type DocumentRun, startDocumentLoad } from '../tests/postgres/document-load.js';
import { describeLoad } from './machine.js';
import { connectionCostRows } from './postgres-connect.js';
import type { ResultRow, SectionResult } from './report.js';

export interface PostgresBenchOptions {
  /** WebSocket clients, spread evenly over the API processes, each its own user and room. */
  clients: number;
  durationSec: number;
  poolSize: number;
}

export const DEFAULT_POSTGRES_BENCH: PostgresBenchOptions = {
  clients: 100,
  durationSec: 30,
  poolSize: 10,
};

interface Run {
  turns: number;
  errors: number;
  elapsedSec: number;
  /** Knowledge documents uploaded beside the chat, and how each ended. */
  documents: DocumentRun[];
}

export async function runPostgresBench(options: PostgresBenchOptions): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const install = findPostgres();
  if (!('binDir' in install)) throw new Error(`bench postgres: ${install.missing}`);
  const emulator = await startOpenAIEmulator();
  const rows: ResultRow[] = [];
  try {
    const common = {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      OPENAI_API_KEY: 'bench',
      OPENAI_BASE_URL: emulator.baseURL,
      DATABASE_POOL_SIZE: String(options.poolSize),
    };
    rows.push(...(await onPostgres(install.binDir, common, options)));
    rows.push(...(await onPglite(common, options)));
  } finally {
    await emulator.close();
  }
  return {
    name: 'postgres',
    title: 'Several processes on one PostgreSQL, beside PGlite',
    rows,
    notes: [
      `${options.clients} WebSocket clients, each its own user and room, send a message as soon as the previous reply is stored, for ${options.durationSec} s; the OpenAI emulator answers at once. Messages/s counts user messages and replies stored. Meanwhile the character's owner uploads 40-paragraph Markdown documents one after another (alternating processes, each followed until ready), so ingestion's connections and CPU are in the figures.`,
      'PostgreSQL: a throwaway PostgreSQL 15 cluster (fsync on) started by the bench, two `npm start` processes with AGENT_WORKER off, DATABASE_POOL_SIZE as stated. PGlite: one `npm start` process on its own data directory (the embedded database serves one process).',
      'Connections: pg_stat_activity rows by application_name (Parley names each role: parley-api, parley-worker, parley-job, parley-knowledge; the ingestion connections of a process add -ingestion, e.g. parley-api-ingestion), most seen while sampling every 500 ms under load, and after the load. A LiveKit job process is capped at 2 by code (JOB_DATABASE_POOL_SIZE) and a worker holds 1 only while it migrates at start; no LiveKit job ran in this bench.',
      "The machine is shared with other engineers' work: wall-clock rates are lower bounds.",
    ],
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}

async function onPostgres(
  binDir: string,
  common: Record<string, string>,
  options: PostgresBenchOptions,
): Promise<ResultRow[]> {
  const pg = await startPostgresServer({ binDir, fast: false });
  const admin = postgres(pg.url(), { max: 1, onnotice: () => {} });
  const dirs = await sharedKeyDataDirs(2);
  let apis: ApiProcess[] = [];
  try {
    await admin`create database parley`;
    const env = { ...common, DATABASE_URL: pg.url('parley'), AGENT_WORKER: 'off' };
    apis = await Promise.all(dirs.map((dir) => startApiProcess({ ...env, DATA_DIR: dir })));
    const afterStart = await connectionsByRole(admin);
    const peak = new Map<string, number>();
    const sampler = setInterval(() => {
      void connectionsByRole(admin).then((now) => {
        for (const [role, count] of now) peak.set(role, Math.max(peak.get(role) ?? 0, count));
      });
    }, 500);
    const run = await chatSaturated(apis, options).finally(() => clearInterval(sampler));
    const after = await connectionsByRole(admin);
    const connectCost = await connectionCostRows(pg.url('parley'));
    return [
      ...rateRow('PostgreSQL, 2 API processes', run, options),
      {
        metric: `PostgreSQL connections by role: after start / most under load / after load (2 API processes, pool ${options.poolSize} each)`,
        value: describeRoles(afterStart, peak, after),
      },
      ...connectCost,
    ];
  } finally {
    await Promise.all(apis.map((api) => api.stop()));
    await admin.end();
    await pg.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

async function onPglite(
  common: Record<string, string>,
  options: PostgresBenchOptions,
): Promise<ResultRow[]> {
  const [dir] = await sharedKeyDataDirs(1);
  if (dir === undefined) throw new Error('no data directory');
  const api = await startApiProcess({ ...common, DATA_DIR: dir });
  try {
    return rateRow('PGlite, 1 API process', await chatSaturated([api], options), options);
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function rateRow(label: string, run: Run, options: PostgresBenchOptions): ResultRow[] {
  const perSecond = ((run.turns * 2) / run.elapsedSec).toFixed(1);
  const ready = run.documents.filter((d) => d.status === 'ready');
  const chunks = ready.reduce((sum, d) => sum + d.chunkCount, 0);
  return [
    {
      metric: `messages stored/s, saturated, ${options.clients} clients, documents ingesting beside (${label})`,
      value: `${perSecond} (${run.turns} turns in ${run.elapsedSec.toFixed(1)} s, ${run.errors} errors)`,
    },
    {
      metric: `knowledge documents uploaded one after another meanwhile: ready / uploaded, chunks (${label})`,
      value: `${ready.length} / ${run.documents.length}, ${chunks} chunks`,
    },
  ];
}

async function connectionsByRole(sql: postgres.Sql): Promise<Map<string, number>> {
  const rows = await sql<{ role: string; count: number }[]>`
    select application_name as role, count(*)::int as count from pg_stat_activity
    where datname = 'parley' and pid <> pg_backend_pid() group by application_name`;
  return new Map(rows.map((row) => [row.role || '(none)', row.count]));
}

function describeRoles(...snapshots: Map<string, number>[]): string {
  const roles = [...new Set(snapshots.flatMap((s) => [...s.keys()]))].sort();
  return roles
    .map((role) => `${role} ${snapshots.map((s) => s.get(role) ?? 0).join(' / ')}`)
    .join('; ');
}

/**
 * Every client chats as fast as replies come back until the time is up, while the
 * character's owner uploads knowledge documents one after another through the same processes
 * (so the ingestion connections are counted beside the pools).
 */
async function chatSaturated(apis: ApiProcess[], options: PostgresBenchOptions): Promise<Run> {
  const { id: character, token: ownerToken } = await makeCharacter(apis[0] as ApiProcess);
  const clients = await Promise.all(
    Array.from({ length: options.clients }, async (_, i) => {
      const api = apis[i % apis.length] as ApiProcess;
      const token = await devToken(api);
      const client = connectChat(
        `${api.base.replace('http', 'ws')}/ws/chat?character_id=${character}`,
        { token },
      );
      await client.next(ofType('ready'));
      return client;
    }),
  );
  let turns = 0;
  let errors = 0;
  const documentLoad = startDocumentLoad({
    apis,
    token: ownerToken,
    characterId: character,
    maxDocuments: 1_000,
  });
  const start = performance.now();
  const end = start + options.durationSec * 1000;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let m = 0; performance.now() < end; m++) {
        const clientId = `bench-${c}-${m}`;
        client.send({ type: 'message', client_id: clientId, text: `client ${c} says ${m}` });
        const reply = client.next(ofType('message', { role: 'character', client_id: clientId }));
        const failed = client.next(ofType('error', { client_id: clientId }));
        const first = await Promise.race([reply, failed]);
        if (first.type === 'error') errors++;
        else turns++;
      }
    }),
  );
  const elapsedSec = (performance.now() - start) / 1000;
  for (const client of clients) client.socket.terminate();
  return { turns, errors, elapsedSec, documents: await documentLoad.stop() };
}

async function devToken(api: ApiProcess): Promise<string> {
  const response = await fetch(`${api.base}/auth/dev/session`, { method: 'POST' });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function makeCharacter(api: ApiProcess): Promise<{ id: string; token: string }> {
  const token = await devToken(api);
  const response = await fetch(`${api.base}/api/characters`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', instructions: 'You answer briefly.', is_public: true }),
  });
  if (response.status !== 201) throw new Error(`character: ${response.status}`);
  return { id: ((await response.json()) as { id: string }).id, token };
}

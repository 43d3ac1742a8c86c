/**
 * "Ingestion never blocks other work", measured: a text turn's database work, repeated at a
 * steady pace on the same pool while a document ingests (and, for contrast, while nothing
 * does), and the bench process's event-loop delay meanwhile.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRetriever, type Retriever } from '../agent/conversation/retrieval.js';
import { createLogger } from '../core/logger.js';
import type { Executor } from '../db/client.js';
import { appendMessage } from '../db/queries/messages.js';
import { makeConversation } from '../tests/helpers/fixtures.js';
import { type Summary, summarize } from './stats.js';

/** One turn every this many milliseconds: a busy room, not a flood. */
const PACE_MS = 100;

export interface ProbeResult {
  turns: Summary;
  loopP99Ms: number;
  loopMaxMs: number;
}

/**
 * A turn as the text path touches the database: the user's message appended, a top-5 search
 * of `characterId`'s knowledge through the product's retriever (the character being
 * ingested, so the search walks the graph the inserts are changing; the retriever also tells
 * ingestion that a turn is under way), the reply appended.
 */
async function turn(
  db: Executor,
  roomId: number,
  search: { retriever: Retriever; characterId: string },
): Promise<void> {
  await appendMessage(db, {
    chatRoomId: roomId,
    sender: 'user',
    text: 'Tell me',
    modality: 'text',
  });
  await search.retriever.retrieve(search.characterId, 'Tell me');
  await appendMessage(db, {
    chatRoomId: roomId,
    sender: 'character',
    text: 'Here it is',
    modality: 'text',
  });
}

/**
 * Runs turns every {@link PACE_MS} until `work` settles (or `turns` turns when there is no
 * work), and returns their wall times with the event-loop delay over the same span.
 */
export async function probeTurns(
  db: Executor,
  search: { characterId: string; embedding: () => number[] },
  work: Promise<unknown> | { turns: number },
): Promise<ProbeResult> {
  const { room } = await makeConversation(db);
  const retriever = createRetriever({
    db,
    // The query's vector: a fresh one from the corpus's distribution for every turn.
    embedder: { embed: async (texts) => texts.map(() => search.embedding()) },
    logger: createLogger({ level: 'silent' }),
    topK: 5,
    minSimilarity: -1,
    timeoutMs: 60_000,
  });
  const ingestion = 'turns' in work ? undefined : work;
  const count = 'turns' in work ? work.turns : 0;
  let ingesting = ingestion !== undefined;
  ingestion?.then(
    () => (ingesting = false),
    () => (ingesting = false),
  );
  const more = (done: number) => (ingestion === undefined ? done < count : ingesting);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const wallMs: number[] = [];
  while (more(wallMs.length)) {
    const started = performance.now();
    await turn(db, room.id, { retriever, characterId: search.characterId });
    wallMs.push(performance.now() - started);
    await sleep(Math.max(0, PACE_MS - (performance.now() - started)));
  }
  loop.disable();
  return {
    turns: summarize(wallMs),
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
  };
}

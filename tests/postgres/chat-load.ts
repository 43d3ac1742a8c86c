import { setTimeout as sleep } from 'node:timers/promises';
import { type ChatClient, connectChat, ofType } from '../http/ws-client.js';
import type { ApiProcess } from './api-process.js';

/** A message the server acknowledged: the stored user message or the stored reply. */
export interface AckedMessage {
  chatRoomId: number;
  id: number;
  seq: number;
  text: string;
}

export interface ChatLoadOptions {
  /** Where the clients connect; client i goes to `apis[i % apis.length]`. */
  apis: ApiProcess[];
  /** One entry per user; every user gets `clientsPerUser` sockets into its own room. */
  tokens: string[];
  clientsPerUser: number;
  characterId: string;
  /** Pause between two turns of one client. */
  gapMs: number;
  /** No client sends more than this many messages: the load ends by itself. */
  maxTurns: number;
}

/** What the chat load saw, per client, once stopped. */
export interface ChatLoadReport {
  clients: number;
  acknowledged: AckedMessage[];
  /** Turns answered with an error frame (then sent again with the same client id). */
  errors: number;
  /** Turns given up (never acknowledged before the retry deadline). */
  abandoned: string[];
}

/** A turn broken by an outage is sent again for this long before the load gives it up. */
const RETRY_FOR_MS = 120_000;

/**
 * Many `/ws/chat` clients spread over several API processes, each sending a message, waiting
 * for the stored reply, pausing, and again: the steady traffic the multi-process checks run
 * under. A turn that fails (the database restarting) is sent again with its client id, as the
 * page does, so every turn ends acknowledged or is reported as abandoned.
 */
export async function startChatLoad(options: ChatLoadOptions) {
  const clients: ChatClient[] = [];
  for (const token of options.tokens) {
    for (let c = 0; c < options.clientsPerUser; c++) {
      const api = options.apis[clients.length % options.apis.length] as ApiProcess;
      const url = `${api.base.replace('http', 'ws')}/ws/chat?character_id=${options.characterId}`;
      clients.push(connectChat(url, { token }));
      // Connections in small groups: hundreds of upgrades at once only queue.
      if (clients.length % 20 === 0) await Promise.all(clients.map((x) => x.next(ofType('ready'))));
    }
  }
  const ready = await Promise.all(clients.map((client) => client.next(ofType('ready'))));
  const report: ChatLoadReport = {
    clients: clients.length,
    acknowledged: [],
    errors: 0,
    abandoned: [],
  };
  let stopping = false;
  const loops = clients.map(async (client, i) => {
    const chatRoomId = Number(ready[i]?.chat_room_id);
    // Spread the first turns over one gap so the clients do not all send on the same tick.
    await sleep((i * options.gapMs) / clients.length);
    for (let m = 0; m < options.maxTurns && !stopping; m++) {
      await oneTurn(client, chatRoomId, `load-${i}-${m}`, report);
      await sleep(options.gapMs);
    }
  });
  return {
    report,
    /** Lets each client finish its turn in progress, then closes every socket. */
    async stop(): Promise<ChatLoadReport> {
      stopping = true;
      await Promise.all(loops);
      for (const client of clients) client.socket.close();
      return report;
    },
  };
}

async function oneTurn(
  client: ChatClient,
  chatRoomId: number,
  clientId: string,
  report: ChatLoadReport,
): Promise<void> {
  const giveUpAt = Date.now() + RETRY_FOR_MS;
  while (Date.now() < giveUpAt) {
    client.send({ type: 'message', client_id: clientId, text: `load message ${clientId}` });
    const reply = client.next(ofType('message', { role: 'character', client_id: clientId }));
    const failed = client.next(ofType('error', { client_id: clientId }));
    const closed = client.closed.then(() => ({ type: 'closed' }));
    const first = await Promise.race([reply, failed, closed]);
    // A closed socket answers nothing more: the turn is given up, and reported.
    if (first.type === 'closed') break;
    if (first.type === 'message') {
      const user = await client.next(ofType('message', { role: 'user', client_id: clientId }));
      for (const frame of [user, first]) report.acknowledged.push(acked(chatRoomId, frame));
      client.frames.splice(0, client.frames.length);
      return;
    }
    report.errors++;
    // This attempt's frames are spent: the next attempt must wait for fresh ones.
    client.frames.splice(0, client.frames.length);
    await sleep(500);
  }
  report.abandoned.push(clientId);
}

function acked(chatRoomId: number, frame: Record<string, unknown>): AckedMessage {
  return { chatRoomId, id: Number(frame.id), seq: Number(frame.seq), text: String(frame.text) };
}

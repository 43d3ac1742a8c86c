/**
 * The `/ws/chat` load: many WebSocket clients in a child process, each authenticated with its
 * own bearer sub-protocol, each chatting in turns (send, wait for the stored reply, think,
 * send again). Reports time to first delta per turn and what was sent, per room.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { isBenchChild } from './child.js';
import { seededRandom } from './vectors.js';

export interface ChatPhase {
  name: string;
  durationSec: number;
  /** Mean pause between a reply and the next message (uniform 0.5x-1.5x); 0 for none. */
  thinkMs: number;
}

export interface ClientPlan {
  url: string;
  tokens: string[];
  connectConcurrency: number;
  phases: ChatPhase[];
}

/** One completed turn as the client saw it. */
export interface TurnSample {
  /** When the message was sent: epoch milliseconds, sub-millisecond precision. */
  sentAt: number;
  /** Message sent -> first `delta` frame. */
  ttfdMs: number;
  chatRoomId: number;
  /** The message's `client_id`. */
  clientId: string;
}

export interface PhaseReport {
  name: string;
  sent: number;
  completed: number;
  errors: number;
  turns: TurnSample[];
  elapsedSec: number;
}

export type ClientMessage =
  | { type: 'connected'; connections: number; failed: number; connectMs: number }
  | { type: 'done'; phases: PhaseReport[]; sentPerRoom: Record<number, number> };

interface Turn {
  sentAt: number;
  firstDeltaAt?: number;
  stored: number;
  done: () => void;
  failed: () => void;
}

/** Epoch milliseconds with the precision of `performance.now()`, comparable across processes. */
const epochMs = () => performance.timeOrigin + performance.now();

class ChatClient {
  roomId = 0;
  sent = 0;
  private readonly turns = new Map<string, Turn>();

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onFrame(String(data)));
  }

  static open(url: string, token: string): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['parley.v1', `bearer.${token}`]);
      const client = new ChatClient(socket);
      const onReady = (data: WebSocket.RawData) => {
        const frame = JSON.parse(String(data)) as { type: string; chat_room_id?: number };
        if (frame.type !== 'ready') return;
        socket.off('message', onReady);
        client.roomId = frame.chat_room_id ?? 0;
        resolve(client);
      };
      socket.on('message', onReady);
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`closed ${code} before ready`)));
    });
  }

  /** Sends one message; resolves with its timing once both messages are stored. */
  say(text: string): Promise<TurnSample> {
    const clientId = randomUUID();
    this.sent += 1;
    return new Promise((resolve, reject) => {
      const turn: Turn = {
        sentAt: epochMs(),
        stored: 0,
        done: () =>
          resolve({
            sentAt: turn.sentAt,
            ttfdMs: (turn.firstDeltaAt ?? Number.NaN) - turn.sentAt,
            chatRoomId: this.roomId,
            clientId,
          }),
        failed: () => reject(new Error('turn failed')),
      };
      this.turns.set(clientId, turn);
      this.socket.send(JSON.stringify({ type: 'message', client_id: clientId, text }));
    });
  }

  private onFrame(raw: string): void {
    const frame = JSON.parse(raw) as {
      type: string;
      client_id?: string;
      role?: string;
      id?: number;
    };
    const turn = frame.client_id === undefined ? undefined : this.turns.get(frame.client_id);
    if (turn === undefined || frame.client_id === undefined) return;
    if (frame.type === 'delta') turn.firstDeltaAt ??= epochMs();
    if (frame.type === 'message' && ++turn.stored === 2) {
      this.turns.delete(frame.client_id);
      turn.done();
    }
    if (frame.type === 'error') {
      this.turns.delete(frame.client_id);
      turn.failed();
    }
  }

  close(): void {
    this.socket.close(1000);
  }
}

async function connectAll(plan: ClientPlan): Promise<{ clients: ChatClient[]; failed: number }> {
  const clients: ChatClient[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < plan.tokens.length) {
      const token = plan.tokens[next++] ?? '';
      try {
        clients.push(await ChatClient.open(plan.url, token));
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.connectConcurrency }, worker));
  return { clients, failed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runPhase(clients: ChatClient[], phase: ChatPhase, seed: number) {
  const random = seededRandom(seed);
  const report: PhaseReport = {
    name: phase.name,
    sent: 0,
    completed: 0,
    errors: 0,
    turns: [],
    elapsedSec: 0,
  };
  const started = performance.now();
  const endAt = started + phase.durationSec * 1000;
  const think = () => phase.thinkMs * (0.5 + random());
  const chat = async (client: ChatClient, index: number) => {
    // Spread the first messages over one think time, as users do not all type at once; no
    // pause runs past the phase's end, so the rate is over the phase alone.
    const untilEnd = () => Math.max(0, endAt - performance.now());
    await sleep(Math.min(phase.thinkMs * random(), untilEnd()));
    while (performance.now() < endAt) {
      report.sent += 1;
      try {
        report.turns.push(await client.say(`Tell me about star number ${index}, please.`));
        report.completed += 1;
      } catch {
        report.errors += 1;
      }
      if (phase.thinkMs > 0) await sleep(Math.min(think(), untilEnd()));
    }
  };
  await Promise.all(clients.map(chat));
  report.elapsedSec = (performance.now() - started) / 1000;
  return report;
}

async function runClients(plan: ClientPlan): Promise<void> {
  const send = (message: ClientMessage) => process.send?.(message);
  const connectStarted = performance.now();
  const { clients, failed } = await connectAll(plan);
  const connectMs = performance.now() - connectStarted;
  const go = new Promise((resolve) => process.once('message', resolve));
  send({ type: 'connected', connections: clients.length, failed, connectMs });
  await go;
  const phases: PhaseReport[] = [];
  for (const [i, phase] of plan.phases.entries())
    phases.push(await runPhase(clients, phase, i + 1));
  const sentPerRoom: Record<number, number> = {};
  for (const client of clients) sentPerRoom[client.roomId] = client.sent;
  for (const client of clients) client.close();
  send({ type: 'done', phases, sentPerRoom });
}

if (isBenchChild()) {
  process.once('message', (plan) => void runClients(plan as ClientPlan));
}

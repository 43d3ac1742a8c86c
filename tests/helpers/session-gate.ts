import type { Socket } from 'node:net';

/**
 * One database session shared by several wire connections, taken in turns. PGlite is a single
 * PostgreSQL session, and `@electric-sql/pglite-socket` runs each protocol message of any
 * connection in arrival order: another client's unnamed statement can land between a client's
 * Parse and Bind, and another client's query inside a client's transaction. A real server gives
 * each connection its own session; this gate comes closest with one. A connection holds the
 * session from its first message until it has had every answer it asked for (one
 * ReadyForQuery per Sync, simple Query or startup) and the session is idle again (status 'I',
 * no transaction open). Meanwhile other connections' bytes wait, in order, and go through when
 * their turn comes. Only test infrastructure: production talks to PostgreSQL or in-process PGlite.
 */
export interface SessionGate {
  /** Wires a client connection to its upstream connection through the gate. */
  attach(client: Socket, upstream: Socket): void;
}

interface Turn {
  client: Socket;
  upstream: Socket;
  /** Client bytes not yet sent upstream: they wait for this connection's turn. */
  waiting: Buffer[];
  /** Requests sent upstream whose ReadyForQuery has not come back. */
  unanswered: number;
  /** Messages sent since the last Sync: an extended-protocol cycle is under way. */
  midCycle: boolean;
  /** The transaction status of the last ReadyForQuery: 'I' idle, 'T' in one, 'E' failed one. */
  status: string;
  fromClient: MessageReader;
  fromServer: MessageReader;
}

/** Message types a server answers with exactly one ReadyForQuery: Sync and simple Query. */
const ENDS_A_REQUEST = new Set(['S', 'Q']);
const CANCEL_REQUEST = 80877102;

export function createSessionGate(): SessionGate {
  let holder: Turn | undefined;
  const queue: Turn[] = [];

  const release = (turn: Turn) => {
    if (holder !== turn) return;
    holder = undefined;
    while (holder === undefined && queue.length > 0) {
      const next = queue.shift() as Turn;
      if (!next.client.destroyed && next.waiting.length > 0) take(next);
    }
  };
  const take = (turn: Turn) => {
    holder = turn;
    const bytes = Buffer.concat(turn.waiting);
    turn.waiting = [];
    forward(turn, bytes);
  };
  const forward = (turn: Turn, bytes: Buffer) => {
    for (const message of turn.fromClient.read(bytes)) {
      // A cancel request comes on a connection of its own and is never answered.
      const cancel = message.startup && message.body.readInt32BE(0) === CANCEL_REQUEST;
      const ends = (message.startup && !cancel) || ENDS_A_REQUEST.has(message.type);
      if (ends) turn.unanswered += 1;
      turn.midCycle = !ends && !cancel && message.type !== 'X';
    }
    turn.upstream.write(bytes);
    releaseIfDone(turn);
  };
  const fromClient = (turn: Turn, bytes: Buffer) => {
    if (holder === turn) return forward(turn, bytes);
    turn.waiting.push(bytes);
    if (holder === undefined) take(turn);
    else if (!queue.includes(turn)) queue.push(turn);
  };
  const fromServer = (turn: Turn, bytes: Buffer) => {
    for (const message of turn.fromServer.read(bytes)) {
      if (message.type !== 'Z') continue;
      turn.unanswered -= 1;
      turn.status = String.fromCharCode(message.body[0] ?? 0);
    }
    turn.client.write(bytes);
    releaseIfDone(turn);
  };
  const releaseIfDone = (turn: Turn) => {
    if (turn.unanswered === 0 && !turn.midCycle && turn.status === 'I') release(turn);
  };

  return {
    attach(client, upstream) {
      const turn: Turn = {
        client,
        upstream,
        waiting: [],
        unanswered: 0,
        midCycle: false,
        status: 'I',
        fromClient: new MessageReader(true),
        fromServer: new MessageReader(false),
      };
      client.on('data', (bytes: Buffer) => fromClient(turn, bytes));
      upstream.on('data', (bytes: Buffer) => fromServer(turn, bytes));
      // A closed connection's session ends with it (pglite-socket rolls back what it left open).
      client.on('close', () => {
        const queued = queue.indexOf(turn);
        if (queued >= 0) queue.splice(queued, 1);
        release(turn);
      });
    },
  };
}

interface Message {
  /** The startup packet: the one message without a type byte (clients connect without SSL). */
  startup: boolean;
  type: string;
  body: Buffer;
}

/** Splits one direction of a PostgreSQL wire stream into messages, across TCP chunks. */
class MessageReader {
  private pending = Buffer.alloc(0);

  constructor(private expectStartup: boolean) {}

  read(bytes: Buffer): Message[] {
    this.pending = Buffer.concat([this.pending, bytes]);
    const messages: Message[] = [];
    for (let message = this.next(); message; message = this.next()) messages.push(message);
    return messages;
  }

  private next(): Message | undefined {
    const startup = this.expectStartup;
    const headerLength = startup ? 4 : 5;
    if (this.pending.length < headerLength) return undefined;
    const length = this.pending.readInt32BE(startup ? 0 : 1);
    const total = startup ? length : length + 1;
    if (this.pending.length < total) return undefined;
    const body = this.pending.subarray(headerLength, total);
    const type = startup ? '' : String.fromCharCode(this.pending[0] ?? 0);
    this.pending = this.pending.subarray(total);
    this.expectStartup = false;
    return { startup, type, body };
  }
}

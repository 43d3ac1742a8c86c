import WebSocket from 'ws';

/** A `/ws/chat` client for tests: collects frames and waits for the ones a test expects. */
export interface ChatClient {
  socket: WebSocket;
  /** Every JSON frame received so far, in order. */
  frames: Record<string, unknown>[];
  /** Resolves with the first frame (received before or after the call) that matches. */
  next(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
  /** Resolves with the close code once the connection is closed. */
  closed: Promise<number>;
}

export interface ChatClientOptions {
  /** The access token, sent as the `bearer.<token>` sub-protocol. */
  token?: string;
  /** `false` to play a client that never answers pings. */
  autoPong?: boolean;
}

export function connectChat(url: string, options: ChatClientOptions = {}): ChatClient {
  const protocols = ['parley.v1'];
  if (options.token !== undefined) protocols.push(`bearer.${options.token}`);
  const socket = new WebSocket(url, protocols, { autoPong: options.autoPong ?? true });
  const frames: Record<string, unknown>[] = [];
  const waiters: {
    match: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('error', () => {});
  return {
    socket,
    frames,
    closed,
    next(match) {
      const seen = frames.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    send(frame) {
      const send = () => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      if (socket.readyState === WebSocket.OPEN) send();
      else socket.once('open', send);
    },
  };
}

export const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (frame: Record<string, unknown>) =>
    frame.type === type && Object.entries(extra).every(([key, value]) => frame[key] === value);

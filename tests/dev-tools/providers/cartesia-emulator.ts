import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type FliteVoice, synthesizeSpeech } from '../../../agent/providers/local/flite.js';
import type { Speak } from './cartesia-audio.js';
import { answerBytes, type BytesRequest, sendCartesiaError } from './cartesia-bytes.js';
import {
  type CartesiaCredentials,
  type CartesiaProblem,
  credentialsProblem,
  httpErrorBody,
  problem,
  readCredentials,
} from './cartesia-protocol.js';
import { answerVoices, VoiceStore } from './cartesia-voices.js';
import { serveConnection } from './cartesia-websocket.js';
import { listen } from './http.js';

export type { BytesRequest };

/** How to start the emulator; every field is optional. */
export interface CartesiaEmulatorOptions {
  /** Delay before the first audio of each context (WebSocket) or response (bytes). Default 0. */
  ttfbMs?: number;
  /** Audio per chunk message, in milliseconds. Default 40. */
  chunkMs?: number;
  /** Pause between chunks; 0 (default) sends them back to back. */
  chunkIntervalMs?: number;
  /** When set, any other key gets a 401; otherwise any non-empty key passes. */
  apiKey?: string;
  /** Flite voice the emulator speaks with (default flite's default). */
  voice?: FliteVoice;
  /**
   * What makes the audio, instead of flite in `voice`. A benchmark passes a cache, so the
   * first byte comes `ttfbMs` after the request rather than after a synthesis on its own CPU.
   */
  speak?: Speak;
  /** Port to listen on; default 0 (any free port). Host is always 127.0.0.1. */
  port?: number;
}

/** What clients sent, per endpoint, in arrival order. */
export interface CartesiaRequestLog {
  /** One entry per accepted WebSocket connection. */
  connections: CartesiaCredentials[];
  /** Every parsed WebSocket message (generation requests and cancels), as sent. */
  websocket: unknown[];
  bytes: BytesRequest[];
}

/** A running emulator. Timing fields can be changed while it runs. */
export interface CartesiaEmulator {
  /** What to pass as the plugin's `baseUrl`, e.g. `http://127.0.0.1:PORT`. */
  readonly baseURL: string;
  readonly port: number;
  readonly requests: CartesiaRequestLog;
  /** The voice library and the clones made (and deleted) through this emulator. */
  readonly voices: VoiceStore;
  ttfbMs: number;
  chunkMs: number;
  chunkIntervalMs: number;
  /** The next generation to send audio drops its socket after `afterChunks` chunks (default 1). */
  closeNextSocket(afterChunks?: number): void;
  close(): Promise<void>;
}

/**
 * Starts a Cartesia-compatible TTS server on 127.0.0.1: `/tts/websocket` and `/tts/bytes`,
 * speaking real (flite) audio resampled to the requested rate, and the voice endpoints
 * (`/voices`, `/voices/clone`, `/voices/:id`).
 */
export async function startCartesiaEmulator(
  options: CartesiaEmulatorOptions = {},
): Promise<CartesiaEmulator> {
  const requests: CartesiaRequestLog = { connections: [], websocket: [], bytes: [] };
  const speak: Speak =
    options.speak ??
    ((text) => synthesizeSpeech(text, options.voice === undefined ? {} : { voice: options.voice }));
  let pendingClose: number | undefined;
  const voices = new VoiceStore();
  const emulator = {
    voices,
    ttfbMs: options.ttfbMs ?? 0,
    chunkMs: options.chunkMs ?? 40,
    chunkIntervalMs: options.chunkIntervalMs ?? 0,
    requests,
    closeNextSocket(afterChunks = 1) {
      pendingClose = afterChunks;
    },
  };

  const server = await listen(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
    const credentials = readCredentials(req);
    const known = (req.method === 'POST' && path === '/tts/bytes') || path.startsWith('/voices');
    const refused = known
      ? credentialsProblem(credentials, options.apiKey)
      : problem(404, 'Not found', `No route for ${req.method} ${path}.`, null);
    if (refused !== undefined) {
      sendCartesiaError(res, refused, credentials.version);
      return;
    }
    const apiKey = credentials.apiKey ?? '';
    if (path.startsWith('/voices')) {
      const answered = await answerVoices(req, res, voices, {
        apiKey,
        version: credentials.version,
      });
      const missing = problem(404, 'Not found', `No route for ${req.method} ${path}.`, null);
      if (!answered) sendCartesiaError(res, missing, credentials.version);
      return;
    }
    await answerBytes(req, res, {
      timing: emulator,
      speak,
      version: credentials.version,
      log: (request) => requests.bytes.push(request),
    });
  }, options.port ?? 0);

  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
    const credentials = readCredentials(req);
    const refused =
      path === '/tts/websocket'
        ? credentialsProblem(credentials, options.apiKey)
        : problem(404, 'Not found', `No WebSocket route ${path}.`, null);
    if (refused !== undefined) return rejectUpgrade(socket, refused, credentials.version);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      requests.connections.push(credentials);
      serveConnection(ws, {
        timing: emulator,
        speak,
        version: credentials.version,
        log: (message) => requests.websocket.push(message),
        claimClose: () => {
          const afterChunks = pendingClose;
          pendingClose = undefined;
          return afterChunks;
        },
      });
    });
  });

  return Object.assign(emulator, {
    baseURL: `http://127.0.0.1:${server.port}`,
    port: server.port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await server.close();
    },
  });
}

/** Refuses a WebSocket handshake with an HTTP status, as Cartesia's gateway does. */
function rejectUpgrade(socket: Duplex, found: CartesiaProblem, version: string | undefined): void {
  const { contentType, body } = httpErrorBody(found, version);
  socket.end(
    `HTTP/1.1 ${found.status} ${found.title}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

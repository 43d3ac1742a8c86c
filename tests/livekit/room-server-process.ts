import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type {
  RoomServer,
  RoomServerMessage,
  RoomServerState,
  WorkerView,
} from './room-server-view.js';
import { Waiters } from './waiters.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 60_000;
/** How long the server may take to close its rooms on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * The test LiveKit server in a process of its own (`npm run dev:livekit`'s entry), as a real
 * LiveKit server is a process of its own: the SFU's forwarding never waits for the test
 * process, which plays users' microphones and serves the API and the database. Its state
 * arrives over IPC after every change; it exits when this process goes away.
 */
export async function startRoomServerProcess(options: {
  apiKey: string;
  apiSecret: string;
  /** Bound on every `waitFor…`/`waitUntil`. */
  waitTimeoutMs: number;
}): Promise<RoomServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/livekit/dev-server.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LIVEKIT_API_KEY: options.apiKey,
      LIVEKIT_API_SECRET: options.apiSecret,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit');
  let state: RoomServerState = { rooms: [], dispatches: [], workers: [] };
  const waiters = new Waiters();
  const ready = new Promise<{ url: string; httpUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the room server did not start in ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.on('message', (message: RoomServerMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else {
        state = message.state;
        waiters.changed();
      }
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      const why = `the room server exited (${code ?? signal}): ${stderr.join('').slice(-2000)}`;
      waiters.close(why);
      reject(new Error(why));
    });
  });
  const { url, httpUrl } = await ready;
  const waitUntil = <T>(probe: () => T | undefined, what: string) =>
    waiters.until(probe, what, options.waitTimeoutMs);
  /** A worker whose fields follow the latest state, as the in-process server's objects do. */
  const liveWorker = (id: string): WorkerView => {
    const now = () => state.workers.find((w) => w.id === id) as WorkerView;
    return {
      id,
      get registered() {
        return now().registered;
      },
      get agentName() {
        return now().agentName;
      },
      get status() {
        return now().status;
      },
      get connected() {
        return now().connected;
      },
    };
  };
  return {
    url,
    httpUrl,
    get rooms() {
      return state.rooms;
    },
    get dispatches() {
      return state.dispatches;
    },
    get workers() {
      return state.workers;
    },
    waitUntil,
    waitForWorker: async (agentName) => {
      const found = await waitUntil(
        () => state.workers.find((w) => w.registered && w.connected && w.agentName === agentName),
        `a worker registered as "${agentName}"`,
      );
      return liveWorker(found.id);
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited.catch(() => undefined);
      clearTimeout(killer);
    },
  };
}

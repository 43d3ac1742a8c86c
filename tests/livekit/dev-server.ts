import { randomBytes } from 'node:crypto';
import { startFakeLiveKitServer } from './fake-livekit-server.js';
import { type RoomServerMessage, type RoomServerState, stateOf } from './room-server-view.js';

/**
 * `npm run dev:livekit`: the test LiveKit server alone on 127.0.0.1, with rooms, so the
 * worker, a page or an rtc-node client can be tried against it by hand. Test infrastructure
 * only: production uses LiveKit Cloud or livekit-server. `LIVEKIT_API_KEY` and
 * `LIVEKIT_API_SECRET`, when set, are the keys it accepts. Its last line on stdout, `ready
 * url=… http=…`, says it listens. Started with an IPC channel (`startRoomServerProcess`, as
 * the LiveKit tests run it, in a process of its own as a real LiveKit server is), it also
 * sends its state to the parent after every change, and exits when the parent goes away.
 */
async function main(): Promise<void> {
  const apiKey = process.env.LIVEKIT_API_KEY ?? 'devkey';
  const apiSecret = process.env.LIVEKIT_API_SECRET ?? randomBytes(24).toString('base64url');
  const send = process.send?.bind(process);
  let reportSoon: () => void = () => undefined;
  const server = await startFakeLiveKitServer({
    apiKey,
    apiSecret,
    rooms: true,
    onChange: () => reportSoon(),
  });
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (send !== undefined) {
    reportSoon = reportState(send, () => stateOf(server));
    // The parent closed the channel or died: a room server nobody uses must not linger.
    process.once('disconnect', stop);
    send({ type: 'ready', url: server.url, httpUrl: server.httpUrl } satisfies RoomServerMessage);
  }
  process.stdout.write(
    [
      'Test LiveKit server running (rooms on /rtc, agent workers on /agent). Set:',
      `LIVEKIT_URL=${server.url}`,
      `LIVEKIT_API_KEY=${apiKey}`,
      `LIVEKIT_API_SECRET=${apiSecret}`,
      `ready url=${server.url} http=${server.httpUrl}`,
      '',
    ].join('\n'),
  );
}

/**
 * Sends the state once per turn of the event loop at most, and only when it changed; also
 * every 200 ms, for what changes without an event (the tracks the SFU forwards).
 */
function reportState(
  send: (message: RoomServerMessage) => void,
  state: () => RoomServerState,
): () => void {
  let last = '';
  let scheduled = false;
  const report = () => {
    scheduled = false;
    const now = state();
    const json = JSON.stringify(now);
    if (json === last || !process.connected) return;
    last = json;
    send({ type: 'state', state: now });
  };
  setInterval(report, 200).unref();
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(report);
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

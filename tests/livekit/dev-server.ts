import { randomBytes } from 'node:crypto';
import { startFakeLiveKitServer } from './fake-livekit-server.js';

/**
 * `npm run dev:livekit`: the test LiveKit server alone on 127.0.0.1, with rooms, so the
 * worker, a page or an rtc-node client can be tried against it by hand. Test infrastructure
 * only: production uses LiveKit Cloud or livekit-server.
 */
async function main(): Promise<void> {
  const apiKey = 'devkey';
  const apiSecret = randomBytes(24).toString('base64url');
  const server = await startFakeLiveKitServer({ apiKey, apiSecret, rooms: true });
  process.stdout.write(
    [
      'Test LiveKit server running (rooms on /rtc, agent workers on /agent). Set:',
      `LIVEKIT_URL=${server.url}`,
      `LIVEKIT_API_KEY=${apiKey}`,
      `LIVEKIT_API_SECRET=${apiSecret}`,
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

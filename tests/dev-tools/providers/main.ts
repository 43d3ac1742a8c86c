import { parseArgs } from 'node:util';
import { startCartesiaEmulator } from './cartesia-emulator.js';
import { startOpenAIEmulator } from './openai-emulator.js';

const USAGE = `Usage: npm run dev:providers -- [options]

Runs the OpenAI and Cartesia emulators on 127.0.0.1 until Ctrl-C.

  --openai-port N          default 8787 (0: any free port)
  --cartesia-port N        default 8788 (0: any free port)
  --ttft-ms N              chat time to first token, default 300
  --tokens-per-second N    chat token pace, default 40 (0: no pacing)
  --stt-latency-ms N       transcription delay, default 200
  --ttfb-ms N              TTS time to first audio, default 150
  --transcript TEXT        what every transcription returns
  --help`;

function number(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number >= 0`);
  return parsed;
}

function readArgs() {
  const { values } = parseArgs({
    options: {
      'openai-port': { type: 'string', default: '8787' },
      'cartesia-port': { type: 'string', default: '8788' },
      'ttft-ms': { type: 'string', default: '300' },
      'tokens-per-second': { type: 'string', default: '40' },
      'stt-latency-ms': { type: 'string', default: '200' },
      'ttfb-ms': { type: 'string', default: '150' },
      transcript: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const tokensPerSecond = number(values['tokens-per-second'], 'tokens-per-second');
  return {
    help: values.help,
    openai: {
      port: number(values['openai-port'], 'openai-port'),
      ttftMs: number(values['ttft-ms'], 'ttft-ms'),
      tokensPerSecond: tokensPerSecond === 0 ? Number.POSITIVE_INFINITY : tokensPerSecond,
      sttLatencyMs: number(values['stt-latency-ms'], 'stt-latency-ms'),
      ...(values.transcript === undefined ? {} : { defaultTranscript: values.transcript }),
    },
    cartesia: {
      port: number(values['cartesia-port'], 'cartesia-port'),
      ttfbMs: number(values['ttfb-ms'], 'ttfb-ms'),
    },
  };
}

/** Starts both emulators, prints the environment that points Parley at them, stops on a signal. */
async function main(): Promise<void> {
  const args = readArgs();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const openai = await startOpenAIEmulator(args.openai);
  const cartesia = await startCartesiaEmulator(args.cartesia);
  process.stdout.write(
    [
      'Provider emulators running. Set:',
      `OPENAI_BASE_URL=${openai.baseURL}`,
      'OPENAI_API_KEY=emulator',
      `CARTESIA_BASE_URL=${cartesia.baseURL}`,
      'CARTESIA_API_KEY=emulator',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await Promise.all([openai.close(), cartesia.close()]);
    // LiveKit's native resampler can keep the event loop alive after everything is closed.
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(1);
});

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dispose } from '@livekit/rtc-node';
import {
  AppConversationFailed,
  formatSteps,
  runAppConversation,
  smokeUser,
} from './app-conversation.js';

const USAGE = `Usage: npm run smoke:livekit -- [options]

Checks a LiveKit deployment end to end as a mobile app would (LiveKit's own SDK): asks
POST /api/token for a room with a character, joins, hears the greeting, asks a spoken question,
hears the answer with lk.transcription captions, and finds both messages stored. Prints one line
per step and exits 1 on the first failed step.

Without --api it starts \`npm start\` itself with this environment (LIVEKIT_URL, key and secret,
DATABASE_URL, provider keys: the API then runs the agent worker too) on a free port.

  --api URL            a Parley API already running (its worker already registered)
  --access-token TOKEN a signed-in user's access token (default: a dev session, which the API
                       grants only to callers on its own machine)
  --character ID       the character to talk to (default: a private one made for the check)
  --question TEXT      what to say, default "What is the capital of France?"
  --step-timeout-ms N  bound on each step, default 120000
  --help`;

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function readArgs() {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      'access-token': { type: 'string' },
      character: { type: 'string' },
      question: { type: 'string', default: 'What is the capital of France?' },
      'step-timeout-ms': { type: 'string', default: '120000' },
      help: { type: 'boolean', default: false },
    },
  });
  const stepTimeoutMs = Number(values['step-timeout-ms']);
  if (!Number.isInteger(stepTimeoutMs) || stepTimeoutMs <= 0) {
    throw new Error('--step-timeout-ms must be a whole number of milliseconds');
  }
  return { ...values, stepTimeoutMs };
}

/** `npm start` on a free port of 127.0.0.1; resolves with its URL once it says it is ready. */
async function startApi(): Promise<{ url: string; child: ChildProcess; output: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'token-service/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    const scan = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      const url = /Parley is ready: open (\S+) in a browser/.exec(text)?.[1];
      if (url !== undefined) resolve(url);
    };
    child.stdout?.on('data', scan);
    child.stderr?.on('data', scan);
    child.once('exit', (code) =>
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output.join('')}`)),
    );
  });
  return { url: await ready, child, output };
}

async function stopApi(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<number> {
  const args = readArgs();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = args.api === undefined ? await startApi() : undefined;
  const apiUrl = args.api ?? started?.url ?? '';
  process.stdout.write(`LiveKit smoke check against ${apiUrl}\n`);
  try {
    const user = await smokeUser(apiUrl, {
      accessToken: args['access-token'],
      characterId: args.character,
    });
    const conversation = await runAppConversation({
      apiUrl,
      ...user,
      question: args.question,
      stepTimeoutMs: args.stepTimeoutMs,
      onStep: (step) => process.stdout.write(`${formatSteps([step])}\n`),
    });
    await conversation.room.disconnect();
    process.stdout.write('PASS: the deployment carried a whole conversation\n');
    return 0;
  } catch (error) {
    if (error instanceof AppConversationFailed) await error.room?.disconnect();
    process.stdout.write(`FAIL: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    if (started !== undefined) await stopApi(started.child);
    await dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`smoke:livekit: ${error instanceof Error ? error.message : error}\n`);
    process.exit(1);
  },
);

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

/** Reads stdout until the four variables are printed. */
async function printedEnv(proc: ChildProcess): Promise<Record<string, string>> {
  let out = '';
  for await (const chunk of proc.stdout ?? []) {
    out += String(chunk);
    const env = Object.fromEntries(
      [...out.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((match) => [match[1], match[2]]),
    );
    if (Object.keys(env).length === 4) return env as Record<string, string>;
  }
  throw new Error(`exited before printing the environment:\n${out}`);
}

describe('npm run dev:providers', () => {
  it('starts both emulators, prints the env that points at them, exits 0 on SIGTERM', async () => {
    child = spawn(TSX, [MAIN, '--openai-port', '0', '--cartesia-port', '0', '--ttft-ms', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const env = await printedEnv(child);
    expect(env.OPENAI_API_KEY).toBe('emulator');
    expect(env.CARTESIA_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const client = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY });
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    const bytes = await fetch(`${env.CARTESIA_BASE_URL}/tts/bytes`, { method: 'POST' });
    expect(bytes.status).toBe(401);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

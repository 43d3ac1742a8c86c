/**
 * The OpenAI emulator in a process of its own, as a remote provider would be: its timers and
 * its request log neither queue behind nor add to the server being measured.
 */
import type { ChildProcess } from 'node:child_process';
import {
  type OpenAIEmulatorOptions,
  startOpenAIEmulator,
} from '../tests/dev-tools/providers/openai-emulator.js';
import { forkModule, isBenchChild, nextMessage, stopChild } from './child.js';

export interface RemoteEmulator {
  baseURL: string;
  close(): Promise<void>;
}

type Options = Pick<OpenAIEmulatorOptions, 'ttftMs' | 'tokensPerSecond'>;

/** Starts the emulator in a child process; resolves once it listens. */
export async function startRemoteEmulator(options: Options): Promise<RemoteEmulator> {
  const child: ChildProcess = forkModule(import.meta.url);
  const ready = nextMessage<{ baseURL: string }>(child, () => true);
  child.send(options);
  const { baseURL } = await ready;
  return { baseURL, close: () => stopChild(child) };
}

if (isBenchChild()) {
  process.once('message', (options) => {
    void startOpenAIEmulator(options as Options).then((emulator) => {
      process.send?.({ baseURL: emulator.baseURL });
    });
  });
}

/**
 * The OpenAI and Cartesia emulators in a process of their own, for benchmarks of whole voice
 * calls: Whisper always hears `question`, the LLM always says `answer`, each at a fixed
 * latency, and Cartesia speaks it with flite. Their CPU (flite above all) is not the server's.
 */
import type { ChildProcess } from 'node:child_process';
import { startCartesiaEmulator } from '../tests/dev-tools/providers/cartesia-emulator.js';
import { startOpenAIEmulator } from '../tests/dev-tools/providers/openai-emulator.js';
import { forkModule, isBenchChild, nextMessage, stopChild } from './child.js';

export interface VoiceProvidersOptions {
  /** What every transcription returns. */
  question: string;
  /** What every chat completion answers. */
  answer: string;
  sttMs: number;
  llmTtftMs: number;
  ttsTtfbMs: number;
}

export interface RemoteVoiceProviders {
  pid: number;
  openaiBaseUrl: string;
  cartesiaBaseUrl: string;
  close(): Promise<void>;
}

interface Ready {
  openaiBaseUrl: string;
  cartesiaBaseUrl: string;
}

/** Starts both emulators in a child process; resolves once they listen. */
export async function startVoiceProviders(
  options: VoiceProvidersOptions,
): Promise<RemoteVoiceProviders> {
  const child: ChildProcess = forkModule(import.meta.url);
  const ready = nextMessage<Ready>(child, () => true);
  child.send(options);
  const urls = await ready;
  return { pid: child.pid ?? 0, ...urls, close: () => stopChild(child) };
}

async function serve(options: VoiceProvidersOptions): Promise<Ready> {
  const openai = await startOpenAIEmulator({
    defaultTranscript: options.question,
    reply: () => options.answer,
    sttLatencyMs: options.sttMs,
    ttftMs: options.llmTtftMs,
  });
  const cartesia = await startCartesiaEmulator({ ttfbMs: options.ttsTtfbMs });
  return { openaiBaseUrl: openai.baseURL, cartesiaBaseUrl: cartesia.baseURL };
}

if (isBenchChild()) {
  process.once('message', (options) => {
    void serve(options as VoiceProvidersOptions).then((ready) => process.send?.(ready));
  });
}

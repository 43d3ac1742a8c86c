/** The LiveKit Agents OpenAI models (LLM, speech-to-text) over the process's one SDK client. */
import type { APIConnectOptions } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import type OpenAI from 'openai';
import type { OpenAIConfig } from './openai-client.js';

export function createLLM(config: OpenAIConfig, client: OpenAI): openaiPlugin.LLM {
  return new openaiPlugin.LLM({ model: config.openai.llmModel, client, temperature: 0.7 });
}

/** Whisper (or `gpt-4o-transcribe`), non-streaming: the session segments speech with VAD. */
export function createSTT(
  config: OpenAIConfig,
  client: OpenAI,
  language: string,
): openaiPlugin.STT {
  return new openaiPlugin.STT({
    model: config.openai.sttModel,
    client,
    // The plugin insists on a key even when given a client, and otherwise reads process.env.
    apiKey: client.apiKey ?? undefined,
    language,
    useRealtime: false,
  });
}

/**
 * How the agents framework retries a stream that failed before producing output. The SDK
 * client already retries requests; this covers streams that break.
 */
export function llmConnectOptions(config: OpenAIConfig): APIConnectOptions {
  return {
    maxRetry: config.providers.maxRetries,
    retryIntervalMs: 500,
    timeoutMs: config.providers.timeoutMs,
  };
}

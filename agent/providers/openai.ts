/**
 * OpenAI clients, configured once: the LLM, Whisper speech-to-text and embeddings all go
 * through one SDK client, so timeouts, retries with backoff (429 and 5xx) and the base URL
 * (OpenAI, or any compatible server such as Ollama or vLLM) are set in one place.
 */
import type { APIConnectOptions } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import type { Config } from '../../core/config.js';

/** The key used when none is configured, so a keyless local server can still be called. */
const NO_KEY = 'not-configured';

export type OpenAIConfig = Pick<Config, 'openai' | 'providers'>;

export function createOpenAIClient(config: OpenAIConfig): OpenAI {
  return new OpenAI({
    apiKey: config.openai.apiKey ?? NO_KEY,
    baseURL: config.openai.baseUrl,
    timeout: config.providers.timeoutMs,
    maxRetries: config.providers.maxRetries,
  });
}

/** Whether OpenAI-compatible calls can be expected to work: a key, or a custom server. */
export function openAIConfigured(config: OpenAIConfig): boolean {
  return config.openai.apiKey !== undefined || config.openai.baseUrl !== undefined;
}

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

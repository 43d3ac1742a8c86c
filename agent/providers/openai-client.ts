import OpenAI from 'openai';
import type { Config } from '../../core/config.js';

/** The key used when none is configured, so a keyless local server can still be called. */
const NO_KEY = 'not-configured';

export type OpenAIConfig = Pick<Config, 'openai' | 'providers'>;

/**
 * The one OpenAI SDK client of a process: the LLM, speech-to-text and embeddings share its
 * timeout, its retries with backoff (429 and 5xx) and its base URL (OpenAI, or any
 * compatible server such as Ollama or vLLM).
 */
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

/**
 * Which providers this configuration can use, in terms a person can act on. A provider that
 * is not configured is never called: callers check here first and tell the user what to set.
 */
import type { Config } from '../../core/config.js';
import { AppError } from '../../core/errors.js';
import { cartesiaConfigured } from './cartesia.js';
import { openAIConfigured } from './openai-client.js';

/** What to do when no LLM is configured: the variable to set, or the local emulators. */
export const LLM_SETUP = {
  variable: 'OPENAI_API_KEY or OPENAI_BASE_URL',
  alternative: 'npm run dev:providers',
} as const;

/** What a voice call says, once per turn, instead of an answer when no LLM is configured. */
export const LLM_MISSING_SPEECH =
  'I cannot answer yet: no language model is configured. Set OPENAI_API_KEY or ' +
  'OPENAI_BASE_URL on the server, or run npm run dev:providers for local ones.';

/** The error a text turn answers with when no LLM is configured. */
export function llmNotConfigured(): AppError {
  return new AppError(
    'PROVIDER.NOT_CONFIGURED',
    `No LLM is configured: set ${LLM_SETUP.variable}, or run \`${LLM_SETUP.alternative}\` ` +
      'for local emulators, and restart Parley',
    { details: { ...LLM_SETUP } },
  );
}

/**
 * The error a knowledge search answers with when no embedding provider is configured: an
 * empty list would read as "the character knows nothing about that".
 */
export function embeddingsNotConfigured(): AppError {
  return new AppError(
    'PROVIDER.NOT_CONFIGURED',
    `Searching knowledge needs embeddings: set ${LLM_SETUP.variable}, or run ` +
      `\`${LLM_SETUP.alternative}\` for local emulators, and restart Parley`,
    { details: { ...LLM_SETUP } },
  );
}

/** The providers a conversation uses with this configuration (no secrets, safe to publish). */
export interface ProviderStatus {
  llm: { configured: boolean; variable: string; alternative: string };
  /** Knowledge documents wait (`pending`) until embeddings are configured. */
  embeddings: { configured: boolean; variable: string };
  speechToText: 'openai' | 'pocketsphinx';
  voices: 'cartesia' | 'flite';
}

export function providerStatus(config: Pick<Config, 'openai' | 'cartesia' | 'providers'>) {
  const openai = openAIConfigured(config);
  const status: ProviderStatus = {
    llm: { configured: openai, ...LLM_SETUP },
    embeddings: { configured: openai, variable: LLM_SETUP.variable },
    speechToText: openai ? 'openai' : 'pocketsphinx',
    voices: cartesiaConfigured(config) ? 'cartesia' : 'flite',
  };
  return status;
}

import Cartesia from '@cartesia/cartesia-js';
import type { CartesiaConfig } from './cartesia.js';

/** Cartesia's public API, where the client goes unless `CARTESIA_BASE_URL` says otherwise. */
export const CARTESIA_API_URL = 'https://api.cartesia.ai';

/**
 * The official REST client (voices, cloning, `/tts/bytes`), or undefined without a key.
 * The base URL is always passed, so the client never falls back to reading the environment
 * itself: configuration is parsed once, in `core/config.ts`.
 */
export function createCartesiaClient(config: CartesiaConfig): Cartesia | undefined {
  const { apiKey, baseUrl } = config.cartesia;
  if (apiKey === undefined) return undefined;
  return new Cartesia({
    apiKey,
    baseURL: baseUrl ?? CARTESIA_API_URL,
    timeout: config.providers.timeoutMs,
    maxRetries: config.providers.maxRetries,
  });
}

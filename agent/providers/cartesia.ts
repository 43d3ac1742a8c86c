import * as cartesia from '@livekit/agents-plugin-cartesia';
import type { Config } from '../../core/config.js';

export type CartesiaConfig = Pick<Config, 'cartesia' | 'providers'>;

/** Whether Cartesia can be called: a key is configured. */
export function cartesiaConfigured(config: CartesiaConfig): boolean {
  return config.cartesia.apiKey !== undefined;
}

/** Cartesia streaming speech in a character's voice (or the configured default voice). */
export function createCartesiaTTS(
  config: CartesiaConfig,
  voice: { voiceId: string | null; language: string },
): cartesia.TTS {
  const options: Partial<cartesia.TTSOptions> = {
    model: config.cartesia.model,
    voice: voice.voiceId ?? config.cartesia.defaultVoice,
    language: voice.language,
    chunkTimeout: config.providers.timeoutMs,
  };
  if (config.cartesia.apiKey !== undefined) options.apiKey = config.cartesia.apiKey;
  if (config.cartesia.baseUrl !== undefined) options.baseUrl = config.cartesia.baseUrl;
  return new cartesia.TTS(options);
}

import type OpenAI from 'openai';
import type { Config } from '../../../core/config.js';
import type { Logger } from '../../../core/logger.js';
import type { Executor } from '../../../db/client.js';
import type { Retriever } from '../../conversation/retrieval.js';
import type { TranscriptWriter } from '../../conversation/transcript-writer.js';
import { cartesiaConfigured } from '../../providers/cartesia.js';
import { openAIConfigured } from '../../providers/openai-client.js';
import { InProcessInferenceExecutor, prewarmEndOfTurn } from '../../voice/turn-detection.js';
import { createVoiceVad } from '../../voice/vad.js';
import type { DirectSessionDeps } from './direct-session.js';
import type { PeerOptions } from './peer.js';
import { DirectSessions, type DirectSessionsOptions } from './registry.js';

/**
 * Direct WebRTC calls for `npm start`: one VAD for all calls, the end-of-turn model run in
 * this process (loaded now when `TURN_DETECTION=model`), and the registry the HTTP routes
 * start calls in. Close it (`closeAll()`) before the database.
 */
export async function startDirectCalls(
  config: Config,
  deps: {
    db: Executor;
    openai: OpenAI;
    retriever: Retriever;
    writer: TranscriptWriter;
    memory?: DirectSessionDeps['memory'];
    logger: Logger;
    peer?: PeerOptions;
  },
  options: DirectSessionsOptions = {},
): Promise<DirectSessions> {
  const vad = createVoiceVad();
  if (config.voice.turnDetection === 'model') prewarmEndOfTurn();
  const inferenceExecutor = new InProcessInferenceExecutor();
  const logger = deps.logger.child({ part: 'rtc' });
  return new DirectSessions(
    { ...deps, config, vad, inferenceExecutor, logger },
    { maxSessions: config.direct.maxCalls, maxPerUser: config.direct.maxCallsPerUser, ...options },
  );
}

/**
 * What talking to a character will use with this configuration, in plain words: one line
 * per provider, and whether anything is missing. For the start-up log.
 */
export function describeProviders(config: Pick<Config, 'openai' | 'cartesia' | 'providers'>): {
  lines: string[];
  missing: boolean;
} {
  const lines: string[] = [];
  const openai = openAIConfigured(config);
  const cartesia = cartesiaConfigured(config);
  lines.push(
    openai
      ? `LLM, speech-to-text and embeddings: ${config.openai.baseUrl ?? 'OpenAI'}`
      : 'OPENAI_API_KEY is not set: characters cannot answer (no LLM; users are told so), speech ' +
          'is recognised offline by pocketsphinx (rough), knowledge documents wait as pending. ' +
          'Set OPENAI_API_KEY, or ' +
          'OPENAI_BASE_URL for an OpenAI-compatible local server (Ollama, vLLM, llama.cpp).',
  );
  lines.push(
    cartesia
      ? `Character voices: Cartesia${config.cartesia.baseUrl ? ` at ${config.cartesia.baseUrl}` : ''}`
      : 'CARTESIA_API_KEY is not set: characters speak with flite (offline, robotic voice).',
  );
  if (!openai || !cartesia) {
    lines.push('To try everything without keys: `npm run dev:providers` prints the settings.');
  }
  return { lines, missing: !openai || !cartesia };
}

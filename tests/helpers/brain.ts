import { initializeLogger } from '@livekit/agents';
import { type Brain, createBrain } from '../../agent/brain.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Executor } from '../../db/client.js';
import {
  type OpenAIEmulator,
  type OpenAIEmulatorOptions,
  startOpenAIEmulator,
} from '../dev-tools/providers/openai-emulator.js';

// The agents framework wants its logger before anything else of it runs.
initializeLogger({ pretty: false, level: 'warn' });

export interface TestBrain {
  brain: Brain;
  emulator: OpenAIEmulator;
  close(): Promise<void>;
}

/**
 * The production brain wired to a local OpenAI emulator, exactly as `npm start` wires it to
 * OpenAI: only the base URL differs. `env` adds configuration (for example retries).
 */
export async function startTestBrain(
  db: Executor,
  options: { emulator?: OpenAIEmulatorOptions; env?: Record<string, string> } = {},
): Promise<TestBrain> {
  const emulator = await startOpenAIEmulator(options.emulator);
  const config = loadConfig({
    OPENAI_BASE_URL: emulator.baseURL,
    OPENAI_API_KEY: 'test-key',
    PROVIDER_MAX_RETRIES: '0',
    RAG_MIN_SIMILARITY: '0.2',
    ...options.env,
  });
  const logger = createLogger({ level: 'silent' });
  const brain = createBrain(config, { db, logger });
  return {
    brain,
    emulator,
    close: async () => {
      await brain.close();
      await emulator.close();
    },
  };
}

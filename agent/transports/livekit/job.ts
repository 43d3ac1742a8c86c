import { defineAgent } from '@livekit/agents';
import { createVoiceVad } from '../../voice/vad.js';
import { runCharacterJob, type WorkerProcessData } from './character-job.js';
import { holdStartupShutdown } from './startup-shutdown.js';

/**
 * Set when agents imports this file into a new job process, before it reads the IPC channel:
 * a drain's shutdown request during start-up must not be lost (see startup-shutdown.ts).
 */
const startupShutdown = holdStartupShutdown();

/**
 * The agent every job process of the worker runs. The VAD's model loads once per process,
 * before the process takes a job, so a conversation starts without that delay; a process
 * asked to stop while starting skips it and exits. The end-of-turn model runs in the
 * worker's inference process, which agents starts and warms.
 */
export default defineAgent<WorkerProcessData>({
  prewarm: (proc) => {
    try {
      if (!startupShutdown.requested) proc.userData.vad = createVoiceVad();
    } finally {
      startupShutdown.release();
    }
  },
  entry: (ctx) => runCharacterJob(ctx),
});

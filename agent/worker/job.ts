import { defineAgent } from '@livekit/agents';
import { loadVoiceVad } from '../voice/vad.js';
import { runCharacterJob, type WorkerProcessData } from './character-job.js';

/**
 * The agent every job process of the worker runs. Silero's model loads once per process,
 * before the process takes a job, so a conversation starts without that delay.
 */
export default defineAgent<WorkerProcessData>({
  prewarm: async (proc) => {
    proc.userData.vad = await loadVoiceVad();
  },
  entry: (ctx) => runCharacterJob(ctx),
});

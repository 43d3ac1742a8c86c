import { defineAgent } from '@livekit/agents';
import { createVoiceVad } from '../voice/vad.js';
import { runCharacterJob, type WorkerProcessData } from './character-job.js';

/**
 * The agent every job process of the worker runs. The VAD's model loads once per process,
 * before the process takes a job, so a conversation starts without that delay. The
 * end-of-turn model runs in the worker's inference process, which agents starts and warms.
 */
export default defineAgent<WorkerProcessData>({
  prewarm: (proc) => {
    proc.userData.vad = createVoiceVad();
  },
  entry: (ctx) => runCharacterJob(ctx),
});

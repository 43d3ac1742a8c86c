import { defineAgent, type JobContext } from '@livekit/agents';
import { postJobReport } from './job-report.js';

/**
 * The agent `fake-livekit-server.test.ts` runs in a real worker (tests only). Its entry
 * reports what the job carried, tries to join the room (the fake server has no media server
 * and refuses), reports how that ended, and ends the job.
 */
export default defineAgent({
  entry: async (ctx: JobContext) => {
    const report = (event: string, data: unknown) =>
      postJobReport(ctx.info.url, { jobId: ctx.job.id, event, data });
    await report('started', {
      agentName: ctx.job.agentName,
      metadata: ctx.job.metadata,
      roomName: ctx.job.room?.name,
      workerId: ctx.workerId,
    });
    try {
      await ctx.connect();
      await report('connected', {});
    } catch (error) {
      await report('connect-failed', { message: String(error) });
    }
    ctx.shutdown('test agent finished');
  },
});

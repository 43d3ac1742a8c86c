import { WorkerStatus } from '@livekit/protocol';
import { Room } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import {
  requestToken,
  SMOKE_GREETING,
  smokeUser,
} from '../dev-tools/smoke-livekit/app-conversation.js';
import { useLiveKitStack } from './use-stack.js';

/**
 * Scenario (e): the worker is told to stop (SIGTERM, as `docker stop` or a rollout does) while
 * a user talks to a character. Its own file, so the stack is fresh: the worker cannot be
 * reused after it has drained.
 */
describe('a LiveKit worker drained during a conversation', () => {
  const file = useLiveKitStack({ agentName: 'parley-drain-test' });

  it('(e) SIGTERM mid-conversation: no new job, the conversation finishes and is stored, the worker exits', async () => {
    const question = 'Will the ferry still run tonight?';
    const answer = 'Yes, the last ferry leaves at eleven from the north pier.';
    const { stack } = file;
    stack.openai.enqueueTranscript(question);
    stack.openai.enqueueReply(answer);
    const user = await smokeUser(stack.baseUrl);
    const worker = await stack.server.waitForWorker(stack.agentName);
    const conversation = await file.converse({
      ...user,
      question,
      // Greeted and listening: now the worker is told to stop. LiveKit learns it is full.
      afterGreeting: async () => {
        stack.worker.child.kill('SIGTERM');
        await stack.server.waitUntil(
          () => (worker.status === WorkerStatus.WS_FULL ? true : undefined),
          'the draining worker to report itself full',
        );
      },
    });
    // The conversation went on after SIGTERM: the question was heard and answered.
    expect(conversation.answered.text.trim()).toBe(answer);

    // A second user arrives: LiveKit finds no free worker, so no job starts for their room.
    const second = await smokeUser(stack.baseUrl);
    const token = await requestToken({ apiUrl: stack.baseUrl, ...second });
    const late = new Room();
    file.leaveAfterwards(late);
    await late.connect(token.server_url, token.participant_token, {
      autoSubscribe: true,
      dynacast: false,
    });
    const refused = await stack.server.waitUntil(
      () =>
        stack.server.dispatches.find(
          (d) => d.job.room?.name === token.room_name && d.outcome === 'no_worker',
        ),
      "the late room's dispatch",
    );
    expect(refused.accepted).toBe(false);

    // The first user leaves: the job ends and the worker, drained, exits by itself (agents'
    // CLI exits with SIGTERM's code, 143), its drain having failed on nothing.
    await conversation.room.disconnect();
    expect(await within(120_000, stack.worker.exited(), 'the drained worker to exit')).toBe(143);
    const drainFailures = stack.worker.logs.filter((line) =>
      /runner not started|timed out draining/.test(JSON.stringify(line)),
    );
    expect(drainFailures).toEqual([]);
    expect(
      stack.server.dispatches.filter((d) => d.job.room?.name === token.room_name && d.accepted),
    ).toEqual([]);

    const stored = await file.storedMessages(conversation.chatRoomId);
    expect(stored.map((m) => [m.sender, m.text.trim()])).toEqual([
      ['character', SMOKE_GREETING],
      ['user', conversation.heard.text.trim()],
      ['character', answer],
    ]);
  }, 300_000);
});

/** `promise`, or a rejection naming what did not happen within `ms`. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

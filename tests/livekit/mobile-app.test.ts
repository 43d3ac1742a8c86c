import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { messages } from '../../db/schema.js';
import {
  type AppConversation,
  formatSteps,
  runAppConversation,
  smokeUser,
} from '../dev-tools/smoke-livekit/app-conversation.js';
import { roomTestReport } from './failure-report.js';
import { type LiveKitStack, startLiveKitStack } from './livekit-stack.js';

let stack: LiveKitStack;
const conversations: AppConversation[] = [];

/**
 * A native app (LiveKit's rtc-node SDK) talks to a character through a LiveKit room: the
 * same steps `npm run smoke:livekit` runs against a real deployment, here against the test
 * room server, with a real worker (`npm run agent`, forked job processes) and the API.
 */
describe('a mobile app (rtc-node) talks to a character through a LiveKit room', () => {
  beforeAll(async () => {
    stack = await startLiveKitStack({ agentName: 'parley-mobile-test' });
  }, 180_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(roomTestReport(stack.server, stack.worker)));
  });

  afterAll(async () => {
    for (const { room } of conversations) await room.disconnect().catch(() => undefined);
    await stack?.close();
  });

  it('joins with a token from POST /api/token, is greeted, asks, hears the answer with captions, and both messages are stored with metrics', async () => {
    const question = 'What is the brightest planet tonight?';
    const answer = 'Venus is the brightest planet tonight, low in the west after sunset.';
    stack.openai.enqueueTranscript(question);
    stack.openai.enqueueReply(answer);
    const user = await smokeUser(stack.baseUrl);
    const steps: string[] = [];
    const conversation = await runAppConversation({
      apiUrl: stack.baseUrl,
      ...user,
      question,
      onStep: (step) => steps.push(formatSteps([step])),
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${steps.join('\n')}`);
    });
    conversations.push(conversation);

    // Captions for both sides, each tied to its track by LiveKit's attributes.
    const { heard, answered } = conversation;
    expect(heard.text).toContain('brightest planet tonight');
    expect(heard.attributes).toMatchObject({
      'lk.transcription_final': 'true',
      'lk.transcribed_track_id': conversation.micTrackSid,
      'lk.segment_id': expect.stringMatching(/^SG_/),
    });
    expect(heard.from).toBe(conversation.agent.identity);
    expect(answered.text).toBe(answer);
    expect(answered.attributes).toMatchObject({
      'lk.transcribed_track_id': conversation.agentTrackSid,
      'lk.segment_id': expect.stringMatching(/^SG_/),
    });

    // Stored: greeting, question, answer, with the voice turn's metrics.
    const stored = await stack.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatRoomId, conversation.chatRoomId))
      .orderBy(asc(messages.seq));
    expect(stored.map((m) => [m.sender, m.text, m.modality, m.interrupted])).toEqual([
      ['character', 'Hello! This is the smoke check speaking.', 'voice', false],
      ['user', heard.text, 'voice', false],
      ['character', answer, 'voice', false],
    ]);
    expect(stored[1]?.metrics).toMatchObject({ endOfUtteranceDelayMs: expect.any(Number) });
    expect(stored[2]?.metrics).toMatchObject({
      llmTtftMs: expect.any(Number),
      ttsTtfbMs: expect.any(Number),
    });
  }, 300_000);
});

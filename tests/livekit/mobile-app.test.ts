import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SMOKE_GREETING, smokeUser } from '../dev-tools/smoke-livekit/app-conversation.js';
import { useLiveKitStack } from './use-stack.js';

/**
 * A native app (LiveKit's rtc-node SDK) talks to a character through a LiveKit room: the
 * same steps `npm run smoke:livekit` runs against a real deployment, here against the test
 * room server, with a real worker (`npm run agent`, forked job processes) and the API.
 */
describe('a mobile app (rtc-node) talks to a character through a LiveKit room', () => {
  const file = useLiveKitStack({ agentName: 'parley-mobile-test' });

  it('joins with a token from POST /api/token, is greeted, asks, hears the answer with captions, and both messages are stored with metrics', async () => {
    const question = 'What is the brightest planet tonight?';
    const answer = 'Venus is the brightest planet tonight, low in the west after sunset.';
    const { stack } = file;
    stack.openai.enqueueTranscript(question);
    stack.openai.enqueueReply(answer);
    const conversation = await file.converse({ ...(await smokeUser(stack.baseUrl)), question });

    // Captions for both sides, each tied to its track by LiveKit's attributes.
    const { heard, answered } = conversation;
    expect(heard.text).toContain('brightest planet tonight');
    expect(heard.attributes).toMatchObject({
      'lk.transcription_final': 'true',
      'lk.transcribed_track_id': conversation.micTrackSid,
      'lk.segment_id': expect.stringMatching(/^SG_/),
    });
    // Captions and stored text may keep the synthesiser's trailing space.
    expect(answered.text.trim()).toBe(answer);
    // The agent speaks the user's caption on the user's behalf (agents sets the sender to the
    // user), so an app ties a caption to a speaker by its track, not by who sent the stream.
    expect(answered.from).toBe(conversation.agent.identity);
    expect(answered.attributes).toMatchObject({
      'lk.transcribed_track_id': conversation.agentTrackSid,
      'lk.segment_id': expect.stringMatching(/^SG_/),
    });

    // Stored: greeting, question, answer, with the voice turn's metrics.
    const stored = await file.storedMessages(conversation.chatRoomId);
    expect(stored.map((m) => [m.sender, m.text.trim(), m.modality, m.interrupted])).toEqual([
      ['character', SMOKE_GREETING, 'voice', false],
      ['user', heard.text.trim(), 'voice', false],
      ['character', answer, 'voice', false],
    ]);
    expect(stored[1]?.metrics).toMatchObject({ endOfUtteranceDelayMs: expect.any(Number) });
    expect(stored[2]?.metrics).toMatchObject({
      llmTtftMs: expect.any(Number),
      ttsTtfbMs: expect.any(Number),
    });
  }, 300_000);

  it('npm run smoke:livekit reports every step passed against a running API and worker', async () => {
    const question = 'What is the capital of France?';
    const { stack } = file;
    stack.openai.enqueueTranscript(question);
    stack.openai.enqueueReply('The capital of France is Paris.');
    // The command as a user runs it (`npm run smoke:livekit -- --api URL`), without npm's banner.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tests/dev-tools/smoke-livekit/main.ts', '--api', stack.baseUrl],
      { timeout: 240_000 },
    ).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`smoke:livekit failed: ${error.message}\n${error.stdout ?? ''}`);
    });
    const passed = stdout.split('\n').flatMap((line) => /^ok\s+(\w+)/.exec(line)?.[1] ?? []);
    expect(passed).toEqual([
      'token',
      'joined',
      'dispatched',
      'greeted',
      'heard',
      'answered',
      'captions',
      'stored',
    ]);
    expect(stdout).toMatch(/ok\s+captions.*The capital of France is Paris\./);
    expect(stdout).toContain('PASS');
  }, 300_000);
});

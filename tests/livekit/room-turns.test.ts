import { afterAll, describe, expect, it } from 'vitest';
import { APOLOGY } from '../../agent/conversation/prompt.js';
import { scriptedReplies, transcribeWithPocketsphinx } from '../voice/script.js';
import {
  imageSentWith,
  PICTURE,
  pictureOf,
  startTestCamera,
  type TestCamera,
} from './room-camera.js';
import { greeted, useRoomScenario } from './room-scenario.js';
import { pollUntil, type RoomUser } from './room-user.js';

const CAMERA = 'what do you see on my camera';
const MOON = 'tell me about the moon';
const WEATHER = 'what is the weather like';
const STARS = 'tell me about the stars';
const DISTANCE = 'how far away is the moon';
const LONG_ANSWER =
  'The moon is the only natural satellite of the earth. It is about a quarter of the size ' +
  'of our planet. It has no air and no weather. Its surface is covered in dust and craters. ' +
  'The same side of the moon always faces us. People first walked on it in nineteen sixty ' +
  'nine. They brought back rocks that are still studied today.';
const REPLIES = {
  camera: 'I see a bright left half and a dark right half.',
  'about the moon': LONG_ANSWER,
  weather: 'It is clear tonight, good for looking at the sky.',
  stars: 'Stars are huge balls of hot gas, very far away from us.',
  'far away': 'The moon is about three hundred and eighty thousand kilometres away.',
};

/**
 * Scenarios (c) camera and (g) barge-in and a provider failure over the test LiveKit room
 * server, with the real worker and its job processes and an rtc-node participant as the
 * mobile app. One stack and one user for the file: the turns follow each other in one room.
 */
describe('a mobile app (rtc-node) in a LiveKit room, turn by turn', () => {
  const scenario = useRoomScenario({
    agentName: 'parley-room-turns',
    openai: {
      reply: scriptedReplies(REPLIES),
      transcribe: transcribeWithPocketsphinx([CAMERA, MOON, WEATHER, STARS, DISTANCE]),
    },
    // One failed request is one failure the user meets, without the SDK's retries.
    worker: { PROVIDER_MAX_RETRIES: '0' },
  });
  let user: RoomUser;
  let camera: TestCamera | undefined;
  afterAll(() => camera?.stop());

  it("(c) the camera's picture goes with the next spoken turn to the LLM", async () => {
    camera = startTestCamera();
    user = await scenario.join();
    await user.publishCamera(camera.source);
    await greeted(user);
    await user.say(CAMERA);
    await user.caption(REPLIES.camera);
    await user.listening();

    // The answer was heard, so its request is in the emulator's log already.
    const image = imageSentWith(scenario.stack.openai, CAMERA);
    if (image === undefined) throw new Error('the question went to the LLM without an image');
    const { left, right, width, height } = await pictureOf(image);
    // The camera's picture, downscaled whole: its aspect ratio, its bright and dark halves.
    expect(width / height).toBeCloseTo(PICTURE.width / PICTURE.height, 1);
    expect(left).toBeGreaterThan(PICTURE.left - 25);
    expect(right).toBeLessThan(PICTURE.right + 25);
  }, 420_000);

  it('(g) barge-in: speaking over the reply stops its audio; the cut reply is stored as played', async () => {
    const before = (await user.stored()).length;
    const question = await user.say(MOON);
    // A good part of the reply reaches the app before the user talks over it.
    await pollUntil(
      () => (loudAfter(user, question.endedAt) >= 150 ? true : undefined),
      'a second and a half of the reply',
    );
    await user.say(WEATHER);
    await user.caption(REPLIES.weather);
    await user.listening();

    const stored = await scenario.storedSince(user, before, 4);
    expect(stored.map((m) => [m.sender, m.interrupted])).toEqual([
      ['user', false],
      ['character', true],
      ['user', false],
      ['character', false],
    ]);
    expect(stored.map((m) => m.text.trim())).toEqual([
      MOON,
      expect.any(String),
      WEATHER,
      REPLIES.weather,
    ]);
    // Stored as played: a strict prefix of the reply, a few words in, far from all of it.
    const played = stored[1]?.text.trim() ?? '';
    expect(LONG_ANSWER.startsWith(played)).toBe(true);
    expect(words(played)).toBeGreaterThan(3);
    expect(words(played)).toBeLessThan(words(LONG_ANSWER) - 10);
    // The audio stopped too: everything the app heard after the question (the cut reply and
    // the short answer) is well under the whole reply, which lasts ~17 s at flite's pace.
    expect(loudAfter(user, question.endedAt) * 10).toBeLessThan(12_000);
  }, 420_000);

  it('(g) speech-to-text failing: the app hears the apology, nothing crashes, the next turn works', async () => {
    const before = (await user.stored()).length;
    scenario.stack.openai.failNext(1, 500, { endpoint: 'transcriptions' });
    const failed = await user.say(STARS);
    await user.caption(APOLOGY);
    await user.listening();
    // The apology was spoken, not only captioned.
    expect(loudAfter(user, failed.endedAt)).toBeGreaterThan(100);

    await user.say(DISTANCE);
    await user.caption(REPLIES['far away']);
    await user.listening();
    // The words were lost with the transcription, so no user message; the apology is stored.
    const stored = await scenario.storedSince(user, before, 3);
    expect(stored.map((m) => [m.sender, m.text.trim()])).toEqual([
      ['character', APOLOGY],
      ['user', DISTANCE],
      ['character', REPLIES['far away']],
    ]);
    expect(scenario.stack.worker.child.exitCode).toBeNull();
  }, 420_000);
});

const words = (text: string) => text.trim().split(/\s+/).length;

/** Loud 10 ms frames of the agent's audio the app received after `since`. */
function loudAfter(user: RoomUser, since: number): number {
  return user.loudFrames.filter((at) => at > since).length;
}

import { ParticipantInfo_Kind } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import { listMemories } from '../../db/queries/memories.js';
import { scriptedReplies, transcribeWithPocketsphinx } from '../voice/script.js';
import { GREETING, useRoomScenario } from './room-scenario.js';
import type { ParticipantView, RoomView } from './room-server-view.js';
import { pollUntil } from './room-user.js';

const MOON = 'tell me about the moon';
const LONG_ANSWER =
  'The moon is the only natural satellite of the earth. It is about a quarter of the size ' +
  'of our planet. It has no air and no weather. Its surface is covered in dust and craters. ' +
  'The same side of the moon always faces us. People first walked on it in nineteen sixty ' +
  'nine. They brought back rocks that are still studied today.';

/**
 * Scenario (d): the user leaves the LiveKit room while the character is still speaking. The
 * job must notice, store what was said (the reply only as far as it was played), distil the
 * conversation into the user's memories, and let its process go.
 */
describe('a user leaving a LiveKit room mid-reply', () => {
  const scenario = useRoomScenario({
    agentName: 'parley-room-leaving',
    openai: {
      reply: scriptedReplies({ 'about the moon': LONG_ANSWER }),
      transcribe: transcribeWithPocketsphinx([MOON]),
    },
  });
  let chatRoomId: number | undefined;

  it('(d) the job ends, the cut reply is stored as interrupted, nothing else is lost, the job process exits', async () => {
    const { stack } = scenario;
    const user = await scenario.greetedUser();
    chatRoomId = user.chatRoomId;
    const roomName = user.room.name ?? '';
    const accepted = await stack.worker.waitForLog(
      (line) => line.msg === 'dispatch accepted' && line.room === roomName,
      'the job accepting the dispatch',
    );
    const jobPid = Number(accepted.pid);
    expect(processRuns(jobPid)).toBe(true);

    const question = await user.say(MOON);
    // The reply is well under way (it lasts ~17 s at flite's pace) when the user leaves.
    await pollUntil(
      () =>
        user.loudFrames.filter((at) => at > question.endedAt).length >= 150 ? true : undefined,
      'a second and a half of the reply',
    );
    await user.leave();

    // The job sees the user go: its agent leaves the room, and its process exits.
    await stack.server.waitUntil(
      () => (agentIn(stack.server.rooms, roomName) ? undefined : true),
      'the agent to leave the room',
    );
    await pollUntil(() => (processRuns(jobPid) ? undefined : true), 'the job process to exit');

    // The process stored everything before it exited: no waiting needed any more.
    const stored = await user.stored();
    expect(stored.map((m) => [m.sender, m.interrupted])).toEqual([
      ['character', false],
      ['user', false],
      ['character', true],
    ]);
    expect(stored.map((m) => m.text.trim())).toEqual([GREETING, MOON, expect.any(String)]);
    // The cut reply is stored as far as it was played: the user left ~1.5 s into a reply of
    // ~17 s, so a strict prefix, a few words in, well under half of it (never the whole).
    const reply = stored[2]?.text.trim() ?? '';
    expect(LONG_ANSWER.startsWith(reply)).toBe(true);
    expect(words(reply)).toBeGreaterThan(2);
    expect(words(reply)).toBeLessThan(words(LONG_ANSWER) / 2);
    // The worker goes on, ready for the next conversation.
    expect(stack.worker.child.exitCode).toBeNull();
  }, 420_000);

  it("(#16) the ended conversation is distilled into the user's memories by the job", async () => {
    if (chatRoomId === undefined) throw new Error('scenario (d) did not run');
    const { db } = scenario.stack.database;
    // The job process distils before it exits, and (d) saw it exit: the row is there now.
    const stored = await scenario.users[0]?.stored();
    const said = stored?.find((m) => m.sender === 'user');
    const memories = await listMemories(db, chatRoomId);
    expect(memories.map((m) => [m.text, m.sourceMessageIds])).toEqual([
      [`The user said: ${MOON}`, [said?.id]],
    ]);
  }, 60_000);
});

const words = (text: string) => text.trim().split(/\s+/).length;

/** Whether a connected agent is in the room (a room everyone left is gone from the server). */
function agentIn(rooms: readonly RoomView[], roomName: string): boolean {
  const room = rooms.find((r) => r.name === roomName);
  const isAgent = (p: ParticipantView) => p.connected && p.info.kind === ParticipantInfo_Kind.AGENT;
  return room?.participants.some(isAgent) === true;
}

/** Whether process `pid` still runs (the worker reaps its job processes as they exit). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

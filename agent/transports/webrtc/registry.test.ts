import { describe, expect, it } from 'vitest';
import type { DirectSession, DirectSessionDeps } from './direct-session.js';
import type { CloseReason } from './peer.js';
import { DirectSessions } from './registry.js';

/** A call that ends when told to (by close(), or by the browser through `hangUpRemotely`). */
function fakeCall(id: string, chatRoomId: number) {
  let finish: (reason: CloseReason) => void = () => {};
  const ended = new Promise<CloseReason>((resolve) => {
    finish = resolve;
  });
  const session: DirectSession = {
    id,
    chatRoomId,
    answerSdp: `answer-${id}`,
    ended,
    async close() {
      finish('local');
      return ended;
    },
  };
  return { session, hangUpRemotely: () => finish('remote-closed') };
}

// The registry never looks into its deps: it hands them to `start`.
const deps = {} as DirectSessionDeps;

function registry(maxSessions = 5, maxPerUser = 5) {
  const calls: ReturnType<typeof fakeCall>[] = [];
  const sessions = new DirectSessions(deps, {
    maxSessions,
    maxPerUser,
    start: async (_deps, request) => {
      const call = fakeCall(`call-${calls.length + 1}`, request.chatRoomId);
      calls.push(call);
      return call.session;
    },
  });
  return { sessions, calls };
}

const offer = (userId: string, chatRoomId = 1) => ({ userId, chatRoomId, offerSdp: 'v=0' });

describe('DirectSessions', () => {
  it('only lets the caller hang up their call, and forgets a call once it ended', async () => {
    const { sessions, calls } = registry();
    const started = await sessions.start(offer('ada', 7));
    expect(started).toMatchObject({ id: 'call-1', answerSdp: 'answer-call-1', chatRoomId: 7 });
    await expect(sessions.end('call-1', 'bob')).rejects.toMatchObject({
      code: 'SESSION.FORBIDDEN',
    });
    await expect(sessions.end('nope', 'ada')).rejects.toMatchObject({ code: 'SESSION.NOT_FOUND' });
    expect(sessions.size).toBe(1);
    await sessions.end('call-1', 'ada');
    expect(sessions.size).toBe(0);

    await sessions.start(offer('ada'));
    calls[1]?.hangUpRemotely();
    await calls[1]?.session.ended;
    expect(sessions.size).toBe(0);
  });

  it('refuses calls past its limit, and any call once shutting down', async () => {
    const { sessions } = registry(2);
    await sessions.start(offer('ada'));
    await sessions.start(offer('bob'));
    await expect(sessions.start(offer('cy'))).rejects.toMatchObject({
      code: 'SESSION.UNAVAILABLE',
    });
    await sessions.closeAll();
    expect(sessions.size).toBe(0);
    await expect(sessions.start(offer('ada'))).rejects.toMatchObject({
      code: 'SESSION.UNAVAILABLE',
    });
  });

  it('refuses a user more calls than their share, so one user cannot hold every slot', async () => {
    const { sessions } = registry(5, 2);
    const first = await sessions.start(offer('ada'));
    await sessions.start(offer('ada'));
    await expect(sessions.start(offer('ada'))).rejects.toMatchObject({
      code: 'SESSION.TOO_MANY',
      details: { limit: 2 },
    });
    await sessions.start(offer('bob'));
    await sessions.end(first.id, 'ada');
    await sessions.start(offer('ada'));
    expect(sessions.size).toBe(3);
  });
});

import type { voice } from '@livekit/agents';
import { DisconnectReason, type RemoteParticipant, Room, RoomEvent } from '@livekit/rtc-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../core/logger.js';
import { closeWhenUserLeaves, STOP_REPLY_LIMIT_MS } from './user-leaving.js';

const logger = createLogger({ level: 'silent' });
const USER = 'user-ada';

/**
 * The two calls `closeWhenUserLeaves` makes on an agents session, recorded in order. The
 * interruption settles when the test says (`stopReply`), as a reply's playout stopping would.
 */
function sessionDouble(interrupt: 'stops' | 'throws' = 'stops') {
  const calls: string[] = [];
  let stopReply = () => {};
  const stopped = new Promise<void>((resolve) => {
    stopReply = resolve;
  });
  const session = {
    interrupt(options?: { force?: boolean }) {
      calls.push(options?.force ? 'interrupt forced' : 'interrupt');
      if (interrupt === 'throws') throw new Error('the speech disallows interruptions');
      return { await: stopped };
    },
    async close() {
      calls.push('close');
    },
  };
  return { session: session as unknown as voice.AgentSession, calls, stopReply };
}

/** A participant of `room` leaving for `reason`, as rtc-node reports it. */
function leave(room: Room, identity: string, reason: DisconnectReason | undefined): void {
  const participant = { identity, disconnectReason: reason } as RemoteParticipant;
  room.emit(RoomEvent.ParticipantDisconnected, participant);
}

/** Lets the promise chain after an event run (no timers involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('closeWhenUserLeaves', () => {
  afterEach(() => void vi.useRealTimers());

  it('stops the reply as a barge-in would (not forced), then closes the session', async () => {
    const room = new Room();
    const { session, calls, stopReply } = sessionDouble();
    closeWhenUserLeaves(room, USER, session, logger);

    leave(room, USER, DisconnectReason.CLIENT_INITIATED);
    await settle();
    // The reply's playout has not yet reported where it stopped: the session stays open.
    expect(calls).toEqual(['interrupt']);
    stopReply();
    await settle();
    expect(calls).toEqual(['interrupt', 'close']);
  });

  it('ends the conversation when the room is deleted or the user is rejected', async () => {
    for (const reason of [DisconnectReason.ROOM_DELETED, DisconnectReason.USER_REJECTED]) {
      const room = new Room();
      const { session, calls, stopReply } = sessionDouble();
      closeWhenUserLeaves(room, USER, session, logger);
      stopReply();
      leave(room, USER, reason);
      await settle();
      expect(calls, DisconnectReason[reason]).toEqual(['interrupt', 'close']);
    }
  });

  it('keeps the conversation when someone else leaves or the user’s connection drops', async () => {
    const room = new Room();
    const { session, calls, stopReply } = sessionDouble();
    closeWhenUserLeaves(room, USER, session, logger);
    stopReply();

    leave(room, 'someone-else', DisconnectReason.CLIENT_INITIATED);
    // A dropped connection may come back; no reason known is no decision to leave.
    leave(room, USER, DisconnectReason.SIGNAL_CLOSE);
    leave(room, USER, DisconnectReason.UNKNOWN_REASON);
    leave(room, USER, undefined);
    await settle();
    expect(calls).toEqual([]);
  });

  it(`closes anyway when the reply has not stopped within ${STOP_REPLY_LIMIT_MS} ms`, async () => {
    vi.useFakeTimers();
    const room = new Room();
    const { session, calls } = sessionDouble();
    closeWhenUserLeaves(room, USER, session, logger);

    leave(room, USER, DisconnectReason.CLIENT_INITIATED);
    await vi.advanceTimersByTimeAsync(STOP_REPLY_LIMIT_MS - 1);
    expect(calls).toEqual(['interrupt']);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(['interrupt', 'close']);
  });

  it('closes the session as it is when the reply cannot be interrupted', async () => {
    const room = new Room();
    const { session, calls } = sessionDouble('throws');
    closeWhenUserLeaves(room, USER, session, logger);

    leave(room, USER, DisconnectReason.CLIENT_INITIATED);
    await settle();
    expect(calls).toEqual(['interrupt', 'close']);
  });

  it('closes once, and not at all after it stopped watching', async () => {
    const room = new Room();
    const { session, calls, stopReply } = sessionDouble();
    stopReply();
    closeWhenUserLeaves(room, USER, session, logger);
    leave(room, USER, DisconnectReason.CLIENT_INITIATED);
    leave(room, USER, DisconnectReason.CLIENT_INITIATED);
    await settle();
    expect(calls).toEqual(['interrupt', 'close']);

    const other = new Room();
    const second = sessionDouble();
    closeWhenUserLeaves(other, USER, second.session, logger)();
    leave(other, USER, DisconnectReason.CLIENT_INITIATED);
    await settle();
    expect(second.calls).toEqual([]);
  });
});

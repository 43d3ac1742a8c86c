import type { voice } from '@livekit/agents';
import { DisconnectReason, type RemoteParticipant, type Room, RoomEvent } from '@livekit/rtc-node';
import type { Logger } from '../../../core/logger.js';

/**
 * The ways of leaving that end the conversation, as agents' RoomIO decides for
 * `closeOnDisconnect`: the user left, or the room is gone. A dropped connection may come back.
 */
const LEAVING = new Set<DisconnectReason>([
  DisconnectReason.CLIENT_INITIATED,
  DisconnectReason.ROOM_DELETED,
  DisconnectReason.USER_REJECTED,
]);

/** How long the reply being spoken gets to stop and be committed as played before the session closes anyway. */
export const STOP_REPLY_LIMIT_MS = 3_000;

/**
 * Closes `session` when the participant `identity` leaves `room`, storing the reply then being
 * spoken as far as it was played. Agents' own `closeOnDisconnect` closes the session with a
 * forced interrupt, which aborts the reply before its playout reports where it stopped, so the
 * whole generated text is committed as if heard. Here the reply is interrupted as a barge-in
 * interrupts it (the playout stops and reports its synchronized transcript), then the session
 * closes. Start the session with `closeOnDisconnect: false`. Returns a function that stops
 * watching.
 */
export function closeWhenUserLeaves(
  room: Room,
  identity: string,
  session: voice.AgentSession,
  logger: Logger,
): () => void {
  const stopWatching = () => room.off(RoomEvent.ParticipantDisconnected, onDisconnected);
  function onDisconnected(participant: RemoteParticipant): void {
    const reason = participant.disconnectReason;
    if (participant.identity !== identity || reason === undefined || !LEAVING.has(reason)) return;
    stopWatching();
    logger.info({ reason: DisconnectReason[reason] }, 'user left; ending the conversation');
    void closeAsPlayed(session, logger);
  }
  room.on(RoomEvent.ParticipantDisconnected, onDisconnected);
  return stopWatching;
}

async function closeAsPlayed(session: voice.AgentSession, logger: Logger): Promise<void> {
  try {
    // Not forced: a forced interrupt cancels the reply's task, as closing does.
    const stopped = session.interrupt().await;
    await Promise.race([
      stopped,
      new Promise((done) => setTimeout(done, STOP_REPLY_LIMIT_MS).unref()),
    ]);
  } catch (error) {
    // A speech that allows no interruption, or a session already closing: close it as it is.
    logger.debug({ err: error }, 'the reply could not be stopped before closing');
  }
  await session.close().catch((error: unknown) => {
    logger.warn({ err: error }, 'voice session did not close cleanly');
  });
}

import type { StartedCall } from '../../agent/transports/webrtc/registry.js';
import type { AppError } from '../../core/errors.js';

/**
 * The direct WebRTC calls of this process (`agent/transports/webrtc/registry.ts` `DirectSessions`
 * satisfies it structurally).
 */
export interface DirectCallPort {
  /** Answers a browser's SDP offer with a call to the room's character, owned by `userId`. */
  start(input: {
    userId: string;
    chatRoomId: number;
    offerSdp: string;
    /** Asked before each reply to a user turn; a refusal skips the reply and tells the page. */
    allowTurn?: () => AppError | undefined;
  }): Promise<StartedCall>;
  /** Hangs up; `SESSION.NOT_FOUND` for an unknown id, `SESSION.FORBIDDEN` for someone else's. */
  end(id: string, userId: string): Promise<void>;
  /** Hangs up for the server's `reason`, telling the caller; nothing if the call is over. */
  stop(id: string, reason: AppError): Promise<void>;
}

import type { OpenAIEmulatorOptions } from '../dev-tools/providers/openai-emulator.js';
import type { LiveKitStack } from './livekit-stack.js';
import { joinAsNewUser, pollUntil, type RoomUser } from './room-user.js';
import { useLiveKitStack } from './use-stack.js';

/** What every room scenario's character says first (the fixtures' character). */
export const GREETING = 'Hello! Ask me anything about the sky.';

/** One LiveKit stack for a test file's scenarios, and the users they joined to it. */
export interface RoomScenario {
  readonly stack: LiveKitStack;
  readonly users: RoomUser[];
  /**
   * A new user in a new room, joined. One at a time: PGlite served over the wire mixes up
   * statements that several connections send at once, and joining writes the user's rows.
   */
  join(): Promise<RoomUser>;
  /** A new user in a new room, once the agent has greeted them and listens. */
  greetedUser(): Promise<RoomUser>;
  /** The messages stored in `user`'s chat room after the first `before`, once there are `count`. */
  storedSince(user: RoomUser, before: number, count: number): ReturnType<RoomUser['stored']>;
}

/**
 * One LiveKit stack for the test file ({@link useLiveKitStack}), and the users its scenarios
 * join to it; a failing test also prints what the emulator and each user saw, and each user
 * leaves their room before the stack closes.
 */
export function useRoomScenario(options: {
  agentName: string;
  openai: OpenAIEmulatorOptions;
  worker?: Record<string, string>;
}): RoomScenario {
  const users: RoomUser[] = [];
  const file = useLiveKitStack({ ...options, report: (stack) => whatUsersSaw(stack, users) });
  return {
    get stack() {
      return file.stack;
    },
    users,
    async join() {
      const user = await joinAsNewUser(file.stack);
      users.push(user);
      file.leaveAfterwards(user.room);
      return user;
    },
    async greetedUser() {
      const user = await this.join();
      await greeted(user);
      return user;
    },
    storedSince: (user, before, count) =>
      pollUntil(async () => {
        const messages = (await user.stored()).slice(before);
        return messages.length >= count ? messages : undefined;
      }, `${count} new messages stored`),
  };
}

/** Resolves once the agent has greeted `user` and listens. */
export async function greeted(user: RoomUser): Promise<void> {
  await user.caption(GREETING);
  await user.listening();
}

function whatUsersSaw(stack: LiveKitStack, users: readonly RoomUser[]): string {
  const { transcriptions, chatCompletions } = stack.openai.requests;
  return [
    `--- emulator --- ${transcriptions.length} transcriptions, ${chatCompletions.length} chat requests`,
    ...users.map(
      (user) =>
        `--- ${user.room.name}: ${user.loudFrames.length} loud frames, captions ${JSON.stringify(user.captions.map((c) => c.text))}`,
    ),
  ].join('\n');
}

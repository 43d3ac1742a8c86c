import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { OpenAIEmulatorOptions } from '../dev-tools/providers/openai-emulator.js';
import { roomTestReport } from './failure-report.js';
import { type LiveKitStack, startLiveKitStack } from './livekit-stack.js';
import { joinAsNewUser, pollUntil, type RoomUser } from './room-user.js';

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
 * Starts one stack (room server, API, worker process) for the test file: one per file, since
 * a stack is tens of seconds of a 2-core machine and rtc-node is disposed once per process.
 * A failing test prints what the server, the worker, the emulator and each user saw.
 */
export function useRoomScenario(options: {
  agentName: string;
  openai: OpenAIEmulatorOptions;
  worker?: Record<string, string>;
}): RoomScenario {
  let stack: LiveKitStack | undefined;
  const users: RoomUser[] = [];
  const started = (): LiveKitStack => {
    if (stack === undefined) throw new Error('the LiveKit stack did not start');
    return stack;
  };
  beforeAll(async () => {
    stack = await startLiveKitStack(options);
  }, 240_000);
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(whatHappened(started(), users)));
  });
  afterAll(async () => {
    for (const user of users) await user.leave().catch(() => undefined);
    await stack?.close();
  }, 120_000);
  return {
    get stack() {
      return started();
    },
    users,
    async join() {
      const user = await joinAsNewUser(started());
      users.push(user);
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

function whatHappened(stack: LiveKitStack, users: readonly RoomUser[]): string {
  const { transcriptions, chatCompletions } = stack.openai.requests;
  return [
    roomTestReport(stack.server, stack.worker),
    `--- emulator --- ${transcriptions.length} transcriptions, ${chatCompletions.length} chat requests`,
    ...users.map(
      (user) =>
        `--- ${user.room.name}: ${user.loudFrames.length} loud frames, captions ${JSON.stringify(user.captions.map((c) => c.text))}`,
    ),
  ].join('\n');
}

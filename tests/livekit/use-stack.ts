import type { Room } from '@livekit/rtc-node';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Message, messages } from '../../db/schema.js';
import {
  type AppConversation,
  AppConversationFailed,
  type AppConversationOptions,
  formatSteps,
  runAppConversation,
} from '../dev-tools/smoke-livekit/app-conversation.js';
import { roomTestReport } from './failure-report.js';
import { type LiveKitStack, startLiveKitStack } from './livekit-stack.js';

/** A test file's LiveKit stack, and the rooms its tests leave open for the end. */
export interface FileStack {
  /** The running stack (only inside tests and hooks). */
  readonly stack: LiveKitStack;
  /** Leaves `room` after the file's tests, before the stack closes. */
  leaveAfterwards(room: Room): void;
  /** {@link runAppConversation} on this stack; a failure lists the steps that passed. */
  converse(options: Omit<AppConversationOptions, 'apiUrl' | 'onStep'>): Promise<AppConversation>;
  /** A chat room's stored messages, in order, read through the API's own connection. */
  storedMessages(chatRoomId: number): Promise<Message[]>;
}

/**
 * One stack per test file: started before its tests, the rooms and the worker's logs printed
 * when a test fails (followed by what `report` adds), its rooms left and everything closed
 * after. One per file, since a stack is tens of seconds of a 2-core machine and rtc-node is
 * disposed once per process.
 */
export function useLiveKitStack(
  options: Parameters<typeof startLiveKitStack>[0] & {
    /** More of what a failed test needs to be understood (e.g. what each user received). */
    report?: (stack: LiveKitStack) => string;
  },
): FileStack {
  let running: LiveKitStack | undefined;
  const rooms: Room[] = [];
  const stackOf = (): LiveKitStack => {
    if (running === undefined) throw new Error('the LiveKit stack is not running');
    return running;
  };
  beforeAll(async () => {
    running = await startLiveKitStack(options);
  }, 240_000);
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      const stack = stackOf();
      const more = options.report?.(stack);
      console.error(
        [roomTestReport(stack.server, stack.worker), ...(more ? [more] : [])].join('\n'),
      );
    });
  });
  afterAll(async () => {
    for (const room of rooms) await room.disconnect().catch(() => undefined);
    await running?.close();
  }, 120_000);
  return {
    get stack() {
      return stackOf();
    },
    leaveAfterwards: (room) => void rooms.push(room),
    converse: async (conversation) => {
      const steps: string[] = [];
      const done = await runAppConversation({
        ...conversation,
        apiUrl: stackOf().baseUrl,
        onStep: (step) => steps.push(formatSteps([step])),
      }).catch((error: unknown) => {
        if (error instanceof AppConversationFailed && error.room) rooms.push(error.room);
        throw new Error(`${String(error)}\n${steps.join('\n')}`);
      });
      rooms.push(done.room);
      return done;
    },
    storedMessages: (chatRoomId) =>
      stackOf()
        .database.db.select()
        .from(messages)
        .where(eq(messages.chatRoomId, chatRoomId))
        .orderBy(asc(messages.seq)),
  };
}

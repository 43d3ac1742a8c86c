import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.js';
import { parseDispatchMetadata, roomNameOf } from '../../../core/livekit-dispatch.js';
import type { Character, ChatRoom } from '../../../db/schema.js';
import { checkDispatch } from './dispatch.js';

const characterId = randomUUID();
const userId = randomUUID();
const good = { chat_room_id: 42, character_id: characterId, user_id: userId };

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('REQUEST.INVALID');
    return (error as AppError).details as string[];
  }
  throw new Error('expected the dispatch to be rejected');
}

describe('parseDispatchMetadata', () => {
  it('reads what the token service writes', () => {
    expect(parseDispatchMetadata(JSON.stringify(good))).toEqual({
      chatRoomId: 42,
      characterId,
      userId,
    });
  });

  it('ignores fields it does not know, so the token service can add some', () => {
    const withMore = JSON.stringify({ ...good, locale: 'en-GB' });
    expect(parseDispatchMetadata(withMore).chatRoomId).toBe(42);
  });

  it('rejects metadata that is not JSON, such as an empty dispatch', () => {
    for (const raw of ['', 'chat_room_id=42', '{"chat_room_id":']) {
      expect(problems(() => parseDispatchMetadata(raw))).toEqual([
        'metadata: not JSON (expected {"chat_room_id", "character_id", "user_id"})',
      ]);
    }
  });

  it('names every missing or malformed field, without echoing values', () => {
    const bad = { chat_room_id: '42', character_id: 'mira', user_id: undefined };
    const found = problems(() => parseDispatchMetadata(JSON.stringify(bad)));
    expect(found.map((p) => p.split(':')[0])).toEqual(['chat_room_id', 'character_id', 'user_id']);
    expect(found.join(' ')).not.toContain('mira');
  });

  it('rejects ids no chat room can have', () => {
    for (const id of [0, -3, 1.5, 2_147_483_648]) {
      const raw = JSON.stringify({ ...good, chat_room_id: id });
      expect(problems(() => parseDispatchMetadata(raw))[0]).toMatch(/^chat_room_id: /);
    }
    expect(problems(() => parseDispatchMetadata('[42]'))[0]).toMatch(/^: /);
  });
});

describe('checkDispatch', () => {
  const dispatch = { chatRoomId: 42, characterId, userId };
  const chatRoom = { id: 42, userId, characterId } as ChatRoom;
  const character = { id: characterId } as Character;
  const roomName = roomNameOf(42);

  it('accepts a dispatch that matches the chat room in its own LiveKit room', () => {
    expect(() => checkDispatch(dispatch, { roomName, chatRoom, character })).not.toThrow();
  });

  it('rejects a dispatch into another room, for another user or another character', () => {
    const found = problems(() =>
      checkDispatch(
        { ...dispatch, userId: randomUUID(), characterId: randomUUID() },
        { roomName: 'lobby', chatRoom, character },
      ),
    );
    expect(found).toEqual([
      `room: the job's room is not ${roomName}`,
      'user_id: not the chat room’s user',
      'character_id: not the chat room’s character',
    ]);
  });
});

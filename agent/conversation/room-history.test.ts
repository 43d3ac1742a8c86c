import { describe, expect, it } from 'vitest';
import type { Message } from '../../db/schema.js';
import { RoomHistory } from './room-history.js';

function message(chatRoomId: number, seq: number): Message {
  return {
    id: chatRoomId * 1000 + seq,
    chatRoomId,
    seq,
    sender: seq % 2 === 1 ? 'user' : 'character',
    text: `m${seq}`,
    modality: 'text',
    interrupted: false,
    metrics: null,
    clientId: null,
    createdAt: new Date(seq * 1000),
  };
}

const seqs = (messages: Message[] | undefined) => messages?.map((m) => m.seq);

describe('RoomHistory', () => {
  it('knows nothing of a room until a database read starts its window', () => {
    const history = new RoomHistory(3, 10);
    expect(history.append(message(1, 5))).toBeUndefined();
    history.remember(1, [message(1, 4), message(1, 5)]);
    expect(seqs(history.append(message(1, 6)))).toEqual([4, 5, 6]);
  });

  it("knows a room's first message is all of its history", () => {
    const history = new RoomHistory(3, 10);
    expect(seqs(history.append(message(1, 1)))).toEqual([1]);
    history.remember(2, []);
    expect(seqs(history.append(message(2, 1)))).toEqual([1]);
    history.remember(3, []);
    expect(history.append(message(3, 2))).toBeUndefined();
  });

  it('keeps the latest `limit` messages as the window grows', () => {
    const history = new RoomHistory(3, 10);
    history.remember(
      1,
      [1, 2, 3, 4].map((seq) => message(1, seq)),
    );
    expect(seqs(history.append(message(1, 5)))).toEqual([3, 4, 5]);
    expect(seqs(history.append(message(1, 6)))).toEqual([4, 5, 6]);
  });

  it('drops a window when a message was written elsewhere in between', () => {
    const history = new RoomHistory(5, 10);
    history.remember(1, [message(1, 1), message(1, 2)]);
    // seq 3 went in through another path (a voice session): the window would miss it.
    expect(history.append(message(1, 4))).toBeUndefined();
    expect(history.append(message(1, 5))).toBeUndefined();
  });

  it('drops the least recently used room past `maxRooms`', () => {
    const history = new RoomHistory(5, 2);
    history.remember(1, [message(1, 1)]);
    history.remember(2, [message(2, 1)]);
    expect(seqs(history.append(message(1, 2)))).toEqual([1, 2]);
    history.remember(3, [message(3, 1)]);
    expect(history.append(message(2, 2))).toBeUndefined();
    expect(seqs(history.append(message(1, 3)))).toEqual([1, 2, 3]);
    expect(seqs(history.append(message(3, 2)))).toEqual([1, 2]);
  });
});

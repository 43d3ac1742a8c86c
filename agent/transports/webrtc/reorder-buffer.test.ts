import { describe, expect, it } from 'vitest';
import { type ReorderEvent, RtpReorderBuffer, seqDistance } from './reorder-buffer.js';

type P = { header: { sequenceNumber: number } };
const packet = (sequenceNumber: number): P => ({ header: { sequenceNumber } });

/** Feeds sequence numbers and writes what comes out as numbers, with gaps as `-missing`. */
function run(buffer: RtpReorderBuffer<P>, seqs: number[]): number[] {
  const out: number[] = [];
  const record = (event: ReorderEvent<P>) =>
    out.push(event.kind === 'packet' ? event.packet.header.sequenceNumber : -event.missing);
  for (const seq of seqs) for (const event of buffer.push(packet(seq))) record(event);
  return out;
}

describe('RtpReorderBuffer', () => {
  it('passes packets through in order', () => {
    expect(run(new RtpReorderBuffer(3), [10, 11, 12, 13])).toEqual([10, 11, 12, 13]);
  });

  it('puts swapped packets back in order', () => {
    expect(run(new RtpReorderBuffer(3), [1, 3, 2, 5, 4, 6])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('drops duplicates and packets older than what was released', () => {
    const buffer = new RtpReorderBuffer<P>(3);
    expect(run(buffer, [1, 3, 3, 2, 1, 4])).toEqual([1, 2, 3, 4]);
    expect(buffer.stats).toMatchObject({ duplicates: 1, late: 1, released: 4 });
  });

  it('reports a gap once more than `depth` packets wait behind a missing one', () => {
    const buffer = new RtpReorderBuffer<P>(2);
    expect(run(buffer, [1, 2, 5, 6, 7, 8])).toEqual([1, 2, -2, 5, 6, 7, 8]);
    expect(buffer.stats.lost).toBe(2);
  });

  it('keeps order across the 16-bit wrap', () => {
    expect(run(new RtpReorderBuffer(3), [65534, 0, 65535, 1])).toEqual([65534, 65535, 0, 1]);
  });

  it('starts over when the numbering jumps far (a new source)', () => {
    const buffer = new RtpReorderBuffer<P>(3);
    expect(run(buffer, [100, 101, 40000, 40001])).toEqual([100, 101, 40000, 40001]);
    expect(buffer.stats.resets).toBe(1);
  });

  it('measures signed distance on the sequence circle', () => {
    expect(seqDistance(65535, 1)).toBe(2);
    expect(seqDistance(1, 65535)).toBe(-2);
  });
});

/**
 * Puts RTP packets back in sequence-number order, drops duplicates and packets that arrive after
 * their turn, and reports gaps it gave up waiting for.
 *
 * werift ships a `JitterBufferBase`, but in 0.24.4 it loses in-order packets after a timeout
 * (fed 1,2,4..8 it released 4 and 8 and later 6,7 out of order), so this small one is ours.
 * It waits in packets, not milliseconds: a browser sends a packet every 20 ms while a call is
 * up, so `depth` packets is `depth * 20` ms of extra delay at most, and only after a loss.
 */
export class RtpReorderBuffer<P extends { header: { sequenceNumber: number } }> {
  private next: number | undefined;
  private readonly held = new Map<number, P>();
  readonly stats = { released: 0, duplicates: 0, late: 0, lost: 0, resets: 0 };

  /** @param depth packets held while waiting for a missing one before declaring it lost */
  constructor(private readonly depth = 3) {}

  /** Adds a packet; returns what is now ready, in order, with gaps marked where packets were lost. */
  push(packet: P): ReorderEvent<P>[] {
    const seq = packet.header.sequenceNumber;
    if (this.next === undefined) this.next = seq;
    const ahead = seqDistance(this.next, seq);
    if (Math.abs(ahead) > RESET_DISTANCE) {
      // The sender restarted its numbering (a new source); continue from the new packet.
      this.stats.resets++;
      this.held.clear();
      this.next = seq;
    } else if (ahead < 0) {
      this.stats.late++;
      return [];
    } else if (this.held.has(seq)) {
      this.stats.duplicates++;
      return [];
    }
    this.held.set(seq, packet);
    return this.release();
  }

  private release(): ReorderEvent<P>[] {
    const events: ReorderEvent<P>[] = [];
    this.drainInOrder(events);
    while (this.held.size > this.depth) {
      const first = this.firstHeld();
      const missing = seqDistance(this.nextSeq(), first);
      this.stats.lost += missing;
      events.push({ kind: 'gap', missing });
      this.next = first;
      this.drainInOrder(events);
    }
    return events;
  }

  private drainInOrder(events: ReorderEvent<P>[]): void {
    let packet = this.held.get(this.nextSeq());
    while (packet !== undefined) {
      this.held.delete(this.nextSeq());
      events.push({ kind: 'packet', packet });
      this.stats.released++;
      this.next = (this.nextSeq() + 1) & 0xffff;
      packet = this.held.get(this.nextSeq());
    }
  }

  private firstHeld(): number {
    let best = this.nextSeq();
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const seq of this.held.keys()) {
      const distance = seqDistance(this.nextSeq(), seq);
      if (distance < bestDistance) {
        best = seq;
        bestDistance = distance;
      }
    }
    return best;
  }

  private nextSeq(): number {
    return this.next ?? 0;
  }
}

/** A packet ready to decode, or a run of `missing` packets that will never come. */
export type ReorderEvent<P> = { kind: 'packet'; packet: P } | { kind: 'gap'; missing: number };

/** A jump this far in sequence numbers is a restart, not loss (about 60 s of 20 ms packets). */
const RESET_DISTANCE = 3000;

/** Signed distance from `from` to `to` on the 16-bit sequence-number circle. */
export function seqDistance(from: number, to: number): number {
  const d = (to - from) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

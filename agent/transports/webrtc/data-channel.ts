import type { RTCDataChannel } from 'werift';

/**
 * JSON messages over the browser's data channel: captions and agent state out, whatever the
 * page sends in. The browser opens the channel in its offer; until it is open, messages wait
 * in a short queue (the oldest go first when it overflows), so a caller can send as soon as
 * the session starts.
 */
export class JsonChannel {
  private channel: RTCDataChannel | undefined;
  private queue: string[] = [];
  private readonly listeners = new Set<(message: unknown) => void>();
  readonly stats = { sent: 0, received: 0, dropped: 0, invalid: 0 };

  constructor(private readonly maxQueued = 100) {}

  /** True once the browser's channel is open. */
  get isOpen(): boolean {
    return this.channel?.readyState === 'open';
  }

  /** Takes the browser's channel (the peer calls this when it arrives). */
  attach(channel: RTCDataChannel): void {
    this.channel = channel;
    channel.onMessage.subscribe((data) => this.receive(data));
    channel.stateChanged.subscribe((state) => {
      if (state === 'open') this.drain();
    });
    if (channel.readyState === 'open') this.drain();
  }

  /** Sends one JSON message; queues it while the channel opens. False when it was dropped. */
  send(message: unknown): boolean {
    const text = JSON.stringify(message);
    if (this.isOpen && this.queue.length === 0) return this.write(text);
    if (this.channel !== undefined && this.channel.readyState !== 'connecting') {
      this.stats.dropped++;
      return false;
    }
    this.queue.push(text);
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.stats.dropped++;
    }
    return true;
  }

  /** Calls `listener` with each parsed JSON message from the browser; returns an unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.queue = [];
    this.listeners.clear();
    if (this.channel !== undefined && this.channel.readyState === 'open') this.channel.close();
  }

  private drain(): void {
    const pending = this.queue;
    this.queue = [];
    for (const text of pending) this.write(text);
  }

  private write(text: string): boolean {
    try {
      this.channel?.send(text);
      this.stats.sent++;
      return true;
    } catch {
      this.stats.dropped++;
      return false;
    }
  }

  private receive(data: string | Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
    } catch {
      this.stats.invalid++;
      return;
    }
    this.stats.received++;
    for (const listener of this.listeners) listener(message);
  }
}

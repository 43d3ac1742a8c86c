import { VAD, type VADEvent, VADStream } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/**
 * One call's VAD, whose streams all see the events of a single inference stream of `inner`.
 *
 * An AgentSession opens two VAD streams on the same microphone: one for turn detection, and
 * one inside the framework's stream adapter for a non-streaming STT such as Whisper, which
 * cuts the audio into utterances. Each stream runs the model on every 32 ms of audio (the
 * onnxruntime Silero plugin did, and `inference.VAD` still does: one native VAD per stream),
 * so a call paid for every inference twice (bench `sessions`: about a third of a listening
 * call's CPU with the plugin). Here the oldest open stream feeds the audio to one inner stream and every
 * stream gets its events; the other streams' input (the same microphone) is read and dropped.
 *
 * Make one per call: streams of different calls must never share.
 */
export class SharedVAD extends VAD {
  readonly label: string;
  readonly #inner: VAD;
  #hub: Hub | undefined;

  constructor(inner: VAD) {
    super(inner.capabilities);
    this.#inner = inner;
    this.label = `parley.SharedVAD<${inner.label}>`;
  }

  override get minSilenceDuration(): number | null {
    return this.#inner.minSilenceDuration;
  }

  stream(): VADStream {
    if (this.#hub === undefined || this.#hub.ended) {
      this.#hub = new Hub(this.#inner.stream());
    }
    return new SharedVADStream(this, this.#hub);
  }
}

/** The inner stream and the streams that listen to it. */
class Hub {
  readonly listeners: SharedVADStream[] = [];
  ended = false;

  constructor(readonly inner: VADStream) {
    void this.forward();
  }

  /** The stream whose audio goes in: the oldest one still open. */
  get feeder(): SharedVADStream | undefined {
    return this.listeners[0];
  }

  join(stream: SharedVADStream): void {
    this.listeners.push(stream);
  }

  leave(stream: SharedVADStream): void {
    const index = this.listeners.indexOf(stream);
    if (index >= 0) this.listeners.splice(index, 1);
    if (this.listeners.length > 0 || this.ended) return;
    this.ended = true;
    this.inner.close();
  }

  private async forward(): Promise<void> {
    try {
      for await (const event of this.inner) {
        for (const listener of this.listeners) listener.deliver(event);
      }
    } catch {
      // The inner stream was closed while a read was pending.
    } finally {
      this.ended = true;
    }
  }
}

class SharedVADStream extends VADStream {
  constructor(
    vad: SharedVAD,
    private readonly hub: Hub,
  ) {
    super(vad);
    hub.join(this);
    void this.readInput();
  }

  /** Passes an event of the inner stream on to this stream's reader. */
  deliver(event: VADEvent): void {
    this.sendVADEvent(event);
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    this.hub.leave(this);
  }

  private async readInput(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.inputReader.read();
        if (done) break;
        if (this.hub.feeder === this) this.feed(value);
      }
    } catch {
      // Closed while reading: nothing more to feed.
    }
  }

  private feed(value: AudioFrame | symbol): void {
    try {
      if (typeof value === 'symbol') this.hub.inner.flush();
      else this.hub.inner.pushFrame(value);
    } catch {
      // The inner stream is closing (the call is ending): the frame is not needed.
    }
  }
}

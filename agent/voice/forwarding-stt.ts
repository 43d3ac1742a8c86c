import type { APIConnectOptions, AudioBuffer, voice } from '@livekit/agents';
import { stt } from '@livekit/agents';

/**
 * A non-streaming STT that hands everything to `inner`: the base of Parley's wrappers that
 * change only what one recognition returns or reports (./reported-stt.ts, ./backchannel.ts).
 * The framework runs it behind its VAD stream adapter, one `recognize` per utterance.
 */
export abstract class ForwardingSTT extends stt.STT {
  label: string;
  protected readonly inner: stt.STT;

  constructor(inner: stt.STT) {
    super(inner.capabilities);
    this.inner = inner;
    this.label = inner.label;
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  protected _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    return this.inner.recognize(buffer, abortSignal);
  }

  override _updateSessionKeyterms(keyterms: string[]): void {
    this.inner._updateSessionKeyterms(keyterms);
  }

  override _pushConversationItem(ev: voice.ConversationItemAddedEvent): void {
    this.inner._pushConversationItem(ev);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    return this.inner.stream(options);
  }

  override async close(): Promise<void> {
    await this.inner.close();
  }
}

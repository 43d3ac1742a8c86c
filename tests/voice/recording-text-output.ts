import { voice } from '@livekit/agents';

/** One caption segment as a client would see it: the text released in step with the audio. */
export interface Caption {
  text: string;
  /** `performance.now()` of the first and last piece. */
  firstAt: number;
  lastAt: number;
  flushed: boolean;
}

/**
 * A text sink that keeps every caption segment the session (through the synchronizer) sent.
 * `ParalellTextOutput` with no sinks is the only `TextOutput` the agents package exports.
 */
export class RecordingTextOutput extends voice.ParalellTextOutput {
  readonly captions: Caption[] = [];
  private current: Caption | undefined;

  constructor() {
    super([]);
  }

  override async captureText(text: string | voice.TimedString): Promise<void> {
    const piece = typeof text === 'string' ? text : text.text;
    const now = performance.now();
    if (this.current === undefined) {
      this.current = { text: '', firstAt: now, lastAt: now, flushed: false };
      this.captions.push(this.current);
    }
    this.current.text += piece;
    this.current.lastAt = now;
  }

  override flush(): void {
    if (this.current !== undefined) this.current.flushed = true;
    this.current = undefined;
  }
}

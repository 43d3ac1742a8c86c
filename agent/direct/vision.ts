import { llm } from '@livekit/agents';
import type { VisionSource } from '../character-agent.js';
import { imageFromMessage } from './messages.js';

/** A snapshot older than this is from a camera that was turned off: the character sees nothing. */
const SNAPSHOT_FRESH_MS = 6_000;

/**
 * What the character sees on a direct call: the latest camera snapshot the page sent on the
 * data channel. The page draws its camera into a small JPEG every couple of seconds while the
 * camera is on; the server decodes no video.
 */
export class SnapshotVision implements VisionSource {
  #latest: { dataUrl: string; at: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a data channel message; keeps it when it is a camera snapshot. */
  accept(message: unknown): void {
    const dataUrl = imageFromMessage(message);
    if (dataUrl !== undefined) this.#latest = { dataUrl, at: this.now() };
  }

  async latestImage(): Promise<llm.ImageContent | undefined> {
    const latest = this.#latest;
    if (latest === undefined || this.now() - latest.at > SNAPSHOT_FRESH_MS) return undefined;
    return llm.createImageContent({ image: latest.dataUrl, inferenceDetail: 'low' });
  }
}

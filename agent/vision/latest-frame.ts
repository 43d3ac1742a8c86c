import type { llm } from '@livekit/agents';
import type { VideoFrameEvent } from '@livekit/rtc-node';
import type { Logger } from '../../core/logger.js';
import type { VisionSource } from '../character-agent.js';
import { DEFAULT_FRAME_IMAGE, type FrameImageOptions, frameToImage } from './frame-image.js';

/**
 * The user's camera as the character sees it: the latest frame of the camera it follows,
 * encoded only when a turn asks for it. Reading the camera costs one reference per frame;
 * downscaling and encoding happen in `latestImage()`, at most once per frame.
 */
export class LatestFrameVision implements VisionSource {
  readonly #logger: Logger;
  readonly #options: FrameImageOptions;
  #reader: ReadableStreamDefaultReader<VideoFrameEvent> | undefined;
  #latest: VideoFrameEvent | undefined;
  #paused = false;
  #encoded: { event: VideoFrameEvent; image: Promise<llm.ImageContent | undefined> } | undefined;

  constructor(logger: Logger, options: FrameImageOptions = DEFAULT_FRAME_IMAGE) {
    this.#logger = logger;
    this.#options = options;
  }

  /** Whether a camera is followed, unpaused, and has delivered a frame. */
  get hasFrame(): boolean {
    return this.#latest !== undefined;
  }

  /** Follows a camera's frames from now on, instead of any camera followed before. */
  follow(frames: ReadableStream<VideoFrameEvent>): void {
    this.stop();
    const reader = frames.getReader();
    this.#reader = reader;
    this.#paused = false;
    void this.#keepLatest(reader);
  }

  /** A muted camera shows nothing: forget its frame and ignore frames until resumed. */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (paused) this.#latest = undefined;
  }

  /** Stops following the camera (unpublished, or the session ended): no image from now on. */
  stop(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    this.#latest = undefined;
    reader?.cancel().catch(() => {});
  }

  async latestImage(): Promise<llm.ImageContent | undefined> {
    const event = this.#latest;
    if (event === undefined) return undefined;
    if (this.#encoded?.event !== event) this.#encoded = { event, image: this.#encode(event) };
    return this.#encoded.image;
  }

  async #keepLatest(reader: ReadableStreamDefaultReader<VideoFrameEvent>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#reader !== reader) break;
        if (!this.#paused) this.#latest = value;
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'camera stream failed; the character no longer sees');
    }
    // The camera's stream ended (track unpublished or unsubscribed): it shows nothing now.
    if (this.#reader === reader) {
      this.#reader = undefined;
      this.#latest = undefined;
    }
  }

  async #encode(event: VideoFrameEvent): Promise<llm.ImageContent | undefined> {
    try {
      return await frameToImage(event.frame, event.rotation, this.#options);
    } catch (error) {
      // A turn without the image is better than no turn.
      this.#logger.warn({ err: error }, 'camera frame could not be encoded; answering without it');
      return undefined;
    }
  }
}

import type { llm } from '@livekit/agents';
import type { Logger } from '../../../core/logger.js';
import type { VisionSource } from '../../character-agent.js';
import { frameToImage } from '../../vision/frame-image.js';
import type { CameraPicture, WebRtcVideoInput } from './video-input.js';

/**
 * A picture older than this is from a camera that stopped (turned off, or the page went
 * away): the character then sees nothing. Pictures arrive every few seconds (keyframes).
 */
const PICTURE_FRESH_MS = 10_000;

/**
 * What the character sees on a direct call: the latest picture of the browser's camera track,
 * encoded as a small JPEG only when a turn asks for it, at most once per picture.
 */
export class CameraVision implements VisionSource {
  #camera: WebRtcVideoInput | undefined;
  #encoded: { picture: CameraPicture; image: Promise<llm.ImageContent | undefined> } | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Looks through this camera from now on. */
  follow(camera: WebRtcVideoInput): void {
    this.#camera = camera;
  }

  async latestImage(): Promise<llm.ImageContent | undefined> {
    const picture = this.#camera?.latestPicture;
    if (picture === undefined || this.now() - picture.receivedAt > PICTURE_FRESH_MS) {
      return undefined;
    }
    if (this.#encoded?.picture !== picture) {
      this.#encoded = { picture, image: this.#encode(picture) };
    }
    return this.#encoded.image;
  }

  async #encode(picture: CameraPicture): Promise<llm.ImageContent | undefined> {
    try {
      return await frameToImage(picture.frame);
    } catch (error) {
      // A turn without the picture is better than no turn.
      this.logger.warn({ err: error }, 'camera picture could not be encoded; answering without it');
      return undefined;
    }
  }
}

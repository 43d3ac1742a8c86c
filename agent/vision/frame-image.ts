import { llm } from '@livekit/agents';
import { VideoBufferType, type VideoFrame, VideoRotation } from '@livekit/rtc-node';
import sharp from 'sharp';

export interface FrameImageOptions {
  /** The image's longer side at most, in pixels. A 512 px image is one tile for OpenAI. */
  maxSidePx: number;
  /** JPEG quality, 1-100. */
  jpegQuality: number;
}

export const DEFAULT_FRAME_IMAGE: FrameImageOptions = { maxSidePx: 512, jpegQuality: 75 };

const DEGREES: Record<VideoRotation, number> = {
  [VideoRotation.VIDEO_ROTATION_0]: 0,
  [VideoRotation.VIDEO_ROTATION_90]: 90,
  [VideoRotation.VIDEO_ROTATION_180]: 180,
  [VideoRotation.VIDEO_ROTATION_270]: 270,
};

/**
 * One camera frame as an image for the LLM: upright, downscaled to `maxSidePx` on its longer
 * side (never enlarged), JPEG in a data URL. agents-js would send a `VideoFrame` as a
 * full-size PNG; a small JPEG is a fraction of the bytes and of the model's input tokens.
 */
export async function frameToImage(
  frame: VideoFrame,
  rotation: VideoRotation = VideoRotation.VIDEO_ROTATION_0,
  options: FrameImageOptions = DEFAULT_FRAME_IMAGE,
): Promise<llm.ImageContent> {
  // Cameras deliver I420; sharp reads interleaved pixels only.
  const rgba = frame.type === VideoBufferType.RGBA ? frame : frame.convert(VideoBufferType.RGBA);
  const jpeg = await sharp(rgba.data, {
    raw: { width: rgba.width, height: rgba.height, channels: 4 },
  })
    .rotate(DEGREES[rotation])
    .resize({
      width: options.maxSidePx,
      height: options.maxSidePx,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .jpeg({ quality: options.jpegQuality })
    .toBuffer();
  return llm.createImageContent({
    image: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
    mimeType: 'image/jpeg',
    // The image is already no larger than one low-detail tile.
    inferenceDetail: 'low',
  });
}

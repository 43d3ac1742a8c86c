import { VideoBufferType, VideoFrame, VideoSource } from '@livekit/rtc-node';
import sharp from 'sharp';
import { z } from 'zod';
import type { OpenAIEmulator } from '../dev-tools/providers/openai-emulator.js';

/** The known picture: grey `left` on the left half, grey `right` on the right, 4:3. */
export const PICTURE = { width: 320, height: 240, left: 200, right: 40 };

/** A camera showing {@link PICTURE}; `stop()` ends its frames. */
export interface TestCamera {
  readonly source: VideoSource;
  stop(): void;
}

/**
 * Captures the known picture at 10 frames a second. The app's encoder sends a keyframe first
 * and then seldom unless asked: an agent that subscribes later asks (RTCP PLI), and the test
 * room server passes the request on to the app as LiveKit's SFU does.
 */
export function startTestCamera(): TestCamera {
  const source = new VideoSource(PICTURE.width, PICTURE.height);
  const frame = testPicture(PICTURE);
  const timer = setInterval(() => source.captureFrame(frame), 100);
  return { source, stop: () => clearInterval(timer) };
}

function testPicture({ width, height }: { width: number; height: number }): VideoFrame {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.fill(i % width < width / 2 ? PICTURE.left : PICTURE.right, i * 4, i * 4 + 3);
    data[i * 4 + 3] = 255;
  }
  return new VideoFrame(data, width, height, VideoBufferType.RGBA);
}

const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string() }),
});

/** The data URL of an image in a chat request whose last user message says `question`. */
export function imageSentWith(openai: OpenAIEmulator, question: string): string | undefined {
  for (const request of openai.requests.chatCompletions) {
    const lastUser = request.messages.findLast((message) => message.role === 'user');
    if (!Array.isArray(lastUser?.content)) continue;
    if (!JSON.stringify(lastUser.content).toLowerCase().includes(question)) continue;
    for (const part of lastUser.content) {
      const image = imagePart.safeParse(part);
      if (image.success) return image.data.image_url.url;
    }
  }
  return undefined;
}

/** Size and mean grey level of the outer two fifths on each side of a JPEG data URL. */
export async function pictureOf(
  dataUrl: string,
): Promise<{ left: number; right: number; width: number; height: number }> {
  const jpeg = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
  const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  let left = 0;
  let right = 0;
  for (let i = 0; i < data.length; i++) {
    // A margin around the middle keeps the JPEG's blur at the edge out of both means.
    const column = i % info.width;
    if (column < info.width * 0.4) left += data[i] ?? 0;
    else if (column >= info.width * 0.6) right += data[i] ?? 0;
  }
  const perSide = info.height * Math.ceil(info.width * 0.4);
  return { left: left / perSide, right: right / perSide, width: info.width, height: info.height };
}

import type { llm } from '@livekit/agents';
import {
  dispose,
  VideoBufferType,
  VideoFrame,
  type VideoFrameEvent,
  VideoRotation,
} from '@livekit/rtc-node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { LatestFrameVision } from './latest-frame.js';

afterAll(() => dispose());

const logger = createLogger({ level: 'silent' });

/** A camera frame of one colour, as LiveKit delivers it (I420). */
function cameraFrame(width: number, height: number, [r, g, b]: number[]): VideoFrame {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([r ?? 0, g ?? 0, b ?? 0, 255], i);
  return new VideoFrame(rgba, width, height, VideoBufferType.RGBA).convert(VideoBufferType.I420);
}

/** A camera track's frames, pushed by the test. */
function camera() {
  let controller: ReadableStreamDefaultController<VideoFrameEvent> | undefined;
  const state = { cancelled: false };
  const stream = new ReadableStream<VideoFrameEvent>({
    start: (c) => {
      controller = c;
    },
    // VideoStream releases its native stream here.
    cancel: () => {
      state.cancelled = true;
    },
  });
  return {
    stream,
    state,
    send(frame: VideoFrame, rotation = VideoRotation.VIDEO_ROTATION_0) {
      controller?.enqueue({ frame, rotation, timestampUs: 0n });
    },
    end: () => controller?.close(),
  };
}

/** Lets the vision's reader take every frame already sent (no I/O involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function decode(image: llm.ImageContent | undefined) {
  expect(image?.mimeType).toBe('image/jpeg');
  const url = String(image?.image);
  expect(url.startsWith('data:image/jpeg;base64,')).toBe(true);
  const jpeg = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  const { width, height, format } = await sharp(jpeg).metadata();
  const { channels } = await sharp(jpeg).stats();
  return { width, height, format, rgb: channels.slice(0, 3).map((c) => Math.round(c.mean)) };
}

describe('LatestFrameVision', () => {
  it('has no image without a camera', async () => {
    expect(await new LatestFrameVision(logger).latestImage()).toBeUndefined();
  });

  it('gives the latest frame, downscaled to 512 px on the long side, as a JPEG', async () => {
    const vision = new LatestFrameVision(logger);
    const cam = camera();
    vision.follow(cam.stream);
    cam.send(cameraFrame(1280, 720, [220, 20, 20]));
    cam.send(cameraFrame(1280, 720, [20, 20, 220]));
    await settle();

    const image = await decode(await vision.latestImage());
    expect(image).toMatchObject({ width: 512, height: 288, format: 'jpeg' });
    const [r, g, b] = image.rgb;
    expect(b).toBeGreaterThan(180);
    expect(r).toBeLessThan(60);
    expect(g).toBeLessThan(60);
    vision.stop();
  });

  it('encodes a frame once however many turns ask for it', async () => {
    const vision = new LatestFrameVision(logger);
    const cam = camera();
    vision.follow(cam.stream);
    cam.send(cameraFrame(64, 48, [0, 200, 0]));
    await settle();

    const first = await vision.latestImage();
    expect(await vision.latestImage()).toBe(first);
    cam.send(cameraFrame(64, 48, [0, 200, 0]));
    await settle();
    expect(await vision.latestImage()).not.toBe(first);
    vision.stop();
  });

  it('turns a rotated camera upright and never enlarges a small frame', async () => {
    const vision = new LatestFrameVision(logger);
    const cam = camera();
    vision.follow(cam.stream);
    cam.send(cameraFrame(640, 480, [128, 128, 128]), VideoRotation.VIDEO_ROTATION_90);
    await settle();
    expect(await decode(await vision.latestImage())).toMatchObject({ width: 384, height: 512 });

    cam.send(cameraFrame(320, 240, [128, 128, 128]));
    await settle();
    expect(await decode(await vision.latestImage())).toMatchObject({ width: 320, height: 240 });
    vision.stop();
  });

  it('shows nothing while the camera is muted, and the next frame after unmuting', async () => {
    const vision = new LatestFrameVision(logger);
    const cam = camera();
    vision.follow(cam.stream);
    cam.send(cameraFrame(64, 48, [200, 200, 200]));
    await settle();
    expect(vision.hasFrame).toBe(true);

    vision.setPaused(true);
    expect(await vision.latestImage()).toBeUndefined();
    cam.send(cameraFrame(64, 48, [200, 200, 200]));
    await settle();
    expect(await vision.latestImage()).toBeUndefined();

    vision.setPaused(false);
    cam.send(cameraFrame(64, 48, [200, 200, 200]));
    await settle();
    expect(await vision.latestImage()).toBeDefined();
    vision.stop();
  });

  it('shows nothing once the camera track ends or is no longer followed', async () => {
    const vision = new LatestFrameVision(logger);
    const ended = camera();
    vision.follow(ended.stream);
    ended.send(cameraFrame(64, 48, [10, 10, 10]));
    await settle();
    expect(vision.hasFrame).toBe(true);
    ended.end();
    await settle();
    expect(await vision.latestImage()).toBeUndefined();

    const stopped = camera();
    vision.follow(stopped.stream);
    stopped.send(cameraFrame(64, 48, [10, 10, 10]));
    await settle();
    expect(vision.hasFrame).toBe(true);
    vision.stop();
    expect(await vision.latestImage()).toBeUndefined();
  });

  it('follows only the newest camera and releases the one before', async () => {
    const vision = new LatestFrameVision(logger);
    const old = camera();
    const current = camera();
    vision.follow(old.stream);
    old.send(cameraFrame(64, 48, [230, 0, 0]));
    await settle();
    vision.follow(current.stream);
    expect(old.state.cancelled).toBe(true);
    expect(vision.hasFrame).toBe(false);
    current.send(cameraFrame(64, 48, [0, 0, 230]));
    await settle();

    const [r, , b] = (await decode(await vision.latestImage())).rgb;
    expect(b).toBeGreaterThan(180);
    expect(r).toBeLessThan(60);
    vision.stop();
    expect(current.state.cancelled).toBe(true);
  });
});

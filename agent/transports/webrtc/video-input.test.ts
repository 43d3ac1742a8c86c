import { afterEach, describe, expect, it } from 'vitest';
import { connectTestCall } from '../../../tests/helpers/test-browser.js';
import { encodeTestPicture } from '../../../tests/helpers/video-test-picture.js';
import { WebRtcVideoInput } from './video-input.js';

/** Mean of a plane's values over a rectangle of an I420 picture's luma plane. */
function meanLuma(data: Uint8Array, width: number, x0: number, x1: number, y0: number, y1: number) {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += data[y * width + x] ?? 0;
  return sum / ((x1 - x0) * (y1 - y0));
}

describe('WebRtcVideoInput', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  it('decodes the camera keyframe the browser sends into the picture it showed', async () => {
    const { browser, session } = await connectTestCall({ video: true });
    const transceiver = session.video;
    if (transceiver === undefined) throw new Error('no camera transceiver');
    const video = new WebRtcVideoInput({ transceiver, keyframeIntervalMs: 0 });
    cleanup.push(
      () => video.close(),
      () => browser.close(),
      () => session.close(),
    );
    const picture = await encodeTestPicture(320, 240);

    const next = video.nextPicture();
    await browser.sendVideoFrame(picture.keyframe, 90_000);
    const { frame } = await next;

    expect([frame.width, frame.height]).toEqual([320, 240]);
    expect(frame.data.length).toBe(320 * 240 * 1.5);
    expect(Math.abs(meanLuma(frame.data, 320, 20, 140, 20, 220) - picture.left)).toBeLessThan(8);
    expect(Math.abs(meanLuma(frame.data, 320, 180, 300, 20, 220) - picture.right)).toBeLessThan(8);
    const u = frame.data[320 * 240 + 10] ?? 0;
    const v = frame.data[320 * 240 * 1.25 + 10] ?? 0;
    expect(Math.abs(u - picture.u)).toBeLessThan(4);
    expect(Math.abs(v - picture.v)).toBeLessThan(4);
    expect(video.latestPicture?.frame).toBe(frame);
    expect(video.stats).toMatchObject({ decoded: 1, decodeFailures: 0, unsupported: 0 });
  });

  it('asks the browser for a keyframe with an RTCP PLI', async () => {
    const { browser, session } = await connectTestCall({ video: true });
    const transceiver = session.video;
    const camera = browser.video;
    if (transceiver === undefined || camera === undefined) throw new Error('no camera');
    const video = new WebRtcVideoInput({ transceiver, keyframeIntervalMs: 0 });
    cleanup.push(
      () => video.close(),
      () => browser.close(),
      () => session.close(),
    );
    const { keyframe } = await encodeTestPicture(160, 120);
    const first = video.nextPicture();
    await browser.sendVideoFrame(keyframe, 90_000);
    await first;

    const pli = camera.sender.onPictureLossIndication.asPromise();
    video.requestKeyframe();
    await pli;
  });
});

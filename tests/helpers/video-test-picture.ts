import LibAV from '@libav.js/variant-webm-vp9';

/**
 * A camera picture for tests, encoded as a VP8 keyframe with libvpx (the same libav.js build
 * the server decodes with): the left half bright, the right half dark, with noise so the
 * frame spans several RTP packets, and a fixed colour tint. Returns the planes' intended values.
 */
export async function encodeTestPicture(
  width: number,
  height: number,
): Promise<{ keyframe: Buffer; left: number; right: number; u: number; v: number }> {
  const av = await LibAV.LibAV({ noworker: true, nothreads: true });
  await av.av_log_set_level(av.AV_LOG_ERROR);
  const left = 200;
  const right = 40;
  const u = 90;
  const v = 170;
  const luma = width * height;
  const chroma = (width / 2) * (height / 2);
  const data = new Uint8Array(luma + 2 * chroma);
  let seed = 7;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed % 41) - 20;
      data[row * width + col] = (col < width / 2 ? left : right) + noise;
    }
  }
  data.fill(u, luma, luma + chroma);
  data.fill(v, luma + chroma);
  const [, context, frame, packet] = await av.ff_init_encoder('libvpx', {
    ctx: { bit_rate: 2_000_000, pix_fmt: av.AV_PIX_FMT_YUV420P, width, height },
    time_base: [1, 30],
  });
  const layout = [
    { offset: 0, stride: width },
    { offset: luma, stride: width / 2 },
    { offset: luma + chroma, stride: width / 2 },
  ];
  const packets = await av.ff_encode_multi(
    context,
    frame,
    packet,
    [{ data, format: av.AV_PIX_FMT_YUV420P, width, height, pts: 0, layout }],
    true,
  );
  await av.ff_free_encoder(context, frame, packet);
  const first = packets[0];
  if (first === undefined) throw new Error('libvpx produced no frame');
  return { keyframe: Buffer.from(first.data), left, right, u, v };
}

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VideoBufferType, VideoFrame } from '@livekit/rtc-node';

/**
 * Runs in a worker thread: libav.js (ffmpeg + libvpx compiled to WebAssembly, LGPL-2.1) decodes
 * on the thread that calls it, 80 ms for a 640x480 keyframe and 360 ms at 1280x720 here, which
 * on the main thread would stall the audio pacing. Plain CommonJS in a string, so it needs no
 * build step under tsx, vitest or compiled output. One libav instance serves every decoder.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const avReady = import(workerData.libavUrl).then(async ({ default: LibAV }) => {
  const av = await LibAV.LibAV({ noworker: true, nothreads: true });
  await av.av_log_set_level(av.AV_LOG_ERROR);
  return av;
});
const decoders = new Map();
async function handle(message) {
  const av = await avReady;
  if (message.op === 'open') {
    const [, ctx, pkt, frame] = await av.ff_init_decoder('libvpx');
    decoders.set(message.decoder, { ctx, pkt, frame });
    return {};
  }
  const d = decoders.get(message.decoder);
  if (!d) throw new Error('unknown decoder');
  if (message.op === 'close') {
    decoders.delete(message.decoder);
    await av.ff_free_decoder(d.ctx, d.pkt, d.frame);
    return {};
  }
  const pictures = await av.ff_decode_multi(d.ctx, d.pkt, d.frame, [{ data: message.data }],
    { ignoreErrors: true, copyoutFrame: 'video_packed' });
  const p = pictures[pictures.length - 1];
  if (!p || p.format !== av.AV_PIX_FMT_YUV420P) return {};
  return { width: p.width, height: p.height, data: new Uint8Array(p.data) };
}
parentPort.on('message', (message) => {
  handle(message).then(
    (result) => parentPort.postMessage({ id: message.id, ...result }, result.data ? [result.data.buffer] : []),
    (error) => parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) }),
  );
});
`;

interface Reply {
  id: number;
  error?: string;
  width?: number;
  height?: number;
  data?: Uint8Array;
}

/** The decode thread and the requests it owes answers to. */
class DecodeThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private nextId = 1;

  constructor() {
    // The package's CommonJS build does not load in a worker; its ES module build does.
    const cjsPath = createRequire(import.meta.url).resolve('@libav.js/variant-webm-vp9');
    const libavUrl = pathToFileURL(cjsPath.replace(/\.js$/, '.mjs')).href;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { libavUrl } });
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(error.message));
    this.worker.on('exit', (code) => this.failAll(`VP8 decode thread exited (${code})`));
    this.worker.unref();
  }

  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref(); // an unanswered request keeps the process alive
      this.worker.postMessage({ ...message, id }, transfer);
    }).then((reply) => {
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply;
    });
  }

  private settle(reply: Reply): void {
    const resolve = this.pending.get(reply.id);
    if (resolve === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    resolve(reply);
  }

  private failAll(error: string): void {
    for (const [id, resolve] of this.pending) resolve({ id, error });
    this.pending.clear();
    thread = undefined;
  }
}

let thread: DecodeThread | undefined;
let nextDecoder = 1;

/**
 * Decodes one VP8 stream into I420 `VideoFrame`s (the type LiveKit's own video streams yield)
 * on a shared worker thread. The first decoder in a process loads libav.js (about 0.7 s).
 */
export class Vp8Decoder {
  private constructor(
    private readonly thread: DecodeThread,
    private readonly id: number,
  ) {}

  static async create(): Promise<Vp8Decoder> {
    thread ??= new DecodeThread();
    const decoder = new Vp8Decoder(thread, nextDecoder++);
    await decoder.thread.request({ op: 'open', decoder: decoder.id });
    return decoder;
  }

  /**
   * Decodes one frame. A keyframe always decodes; a delta frame only after the frames it
   * depends on. Resolves undefined when the decoder produced no picture.
   */
  async decode(frame: Buffer): Promise<VideoFrame | undefined> {
    const data = new Uint8Array(frame);
    const reply = await this.thread.request({ op: 'decode', decoder: this.id, data }, [
      data.buffer,
    ]);
    if (reply.data === undefined || reply.width === undefined || reply.height === undefined) {
      return undefined;
    }
    return new VideoFrame(reply.data, reply.width, reply.height, VideoBufferType.I420);
  }

  async close(): Promise<void> {
    await this.thread.request({ op: 'close', decoder: this.id });
  }
}

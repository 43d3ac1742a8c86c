import { Decoder } from '@evan/opus';
import {
  type RTCDataChannel,
  RTCPeerConnection,
  type RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
  useOPUS,
  useVP8,
} from 'werift';
import { FrameClock } from '../../agent/transports/webrtc/frame-clock.js';
import {
  OPUS_FRAME_SAMPLES,
  OPUS_RATE,
  OpusRtpSender,
} from '../../agent/transports/webrtc/opus-rtp-sender.js';
import { PcmChunker } from '../../agent/transports/webrtc/pcm.js';
import {
  answerOffer,
  type PeerOptions,
  type PeerSession,
} from '../../agent/transports/webrtc/peer.js';
import { packetizeVp8 } from '../../agent/transports/webrtc/vp8-frames.js';

/** Both test peers stay on loopback: no test traffic leaves this machine. */
export const LOOPBACK_ICE: Pick<
  PeerOptions,
  'iceInterfaceAddresses' | 'iceAdditionalHostAddresses'
> = {
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceAdditionalHostAddresses: ['127.0.0.1'],
};

/**
 * A werift peer that plays the browser in tests: it offers Opus audio (send and receive), an
 * optional camera m-line and a data channel, speaks real Opus packets paced in real time, and
 * decodes what the server sends back.
 */
export class TestBrowser {
  readonly pc: RTCPeerConnection;
  readonly audio: RTCRtpTransceiver;
  /** The camera m-line, when the browser was made with `video: true`. */
  readonly video: RTCRtpTransceiver | undefined;
  readonly channel: RTCDataChannel;
  /** Decoded 48 kHz mono samples of every packet received from the server, in arrival order. */
  readonly heard: Int16Array[] = [];
  readonly received: RtpPacket[] = [];
  /** `performance.now()` at each packet's arrival. */
  readonly arrivals: number[] = [];
  readonly messages: unknown[] = [];
  private readonly decoder = new Decoder({ channels: 1, sample_rate: OPUS_RATE });
  private readonly sender: OpusRtpSender;
  private videoSeq = 1;

  constructor(options: { video?: boolean } = {}) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      ...LOOPBACK_ICE,
      codecs: { audio: [useOPUS()], video: [useVP8()] },
    });
    this.audio = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.video =
      options.video === true
        ? this.pc.addTransceiver('video', { direction: 'sendonly' })
        : undefined;
    this.channel = this.pc.createDataChannel('parley');
    this.channel.onMessage.subscribe((data) => this.messages.push(JSON.parse(data.toString())));
    this.sender = new OpusRtpSender(this.audio.sender);
  }

  /** A complete (non-trickle) offer, as a browser sends it to a WHIP-style endpoint. */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    while (this.pc.iceGatheringState !== 'complete') {
      await this.pc.iceGatheringStateChange.asPromise();
    }
    const sdp = this.pc.localDescription?.sdp;
    if (sdp === undefined) throw new Error('no local description');
    return sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    // The receiving track exists once the answer named the server's stream.
    this.audio.receiver.track.onReceiveRtp.subscribe((packet) => this.hear(packet));
  }

  /** Speaks 48 kHz mono samples as 20 ms Opus packets in real time; resolves when all are sent. */
  speak(samples48k: Int16Array): Promise<void> {
    const chunker = new PcmChunker(OPUS_FRAME_SAMPLES);
    const frames = chunker.push(samples48k);
    const tail = chunker.flushPadded();
    if (tail !== undefined) frames.push(tail);
    return new Promise((resolve) => {
      const clock = new FrameClock(20, () => {
        const frame = frames.shift();
        if (frame === undefined) {
          resolve();
          return false;
        }
        this.sender.send(frame);
        return true;
      });
      clock.start();
    });
  }

  /** Sends one encoded VP8 frame as RTP packets (marker on the last), like a camera would. */
  async sendVideoFrame(frame: Buffer, timestamp: number): Promise<void> {
    const video = this.video;
    if (video === undefined) throw new Error('this browser offered no camera');
    const payloads = packetizeVp8(frame);
    for (const [i, payload] of payloads.entries()) {
      const header = new RtpHeader({
        sequenceNumber: this.videoSeq,
        timestamp,
        payloadType: 96,
        marker: i === payloads.length - 1,
      });
      this.videoSeq = (this.videoSeq + 1) & 0xffff;
      await video.sender.sendRtp(new RtpPacket(header, payload));
    }
  }

  /** Everything heard so far as one block of 48 kHz samples. */
  heardSamples(): Int16Array {
    const out = new Int16Array(this.heard.reduce((n, h) => n + h.length, 0));
    let offset = 0;
    for (const part of this.heard) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pc.close();
  }

  private hear(packet: RtpPacket): void {
    this.received.push(packet);
    this.arrivals.push(performance.now());
    const pcm = this.decoder.decode(packet.payload);
    this.heard.push(
      new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)),
    );
  }
}

/** A test browser connected to a server-side session over loopback, both ends up. */
export async function connectTestCall(
  options: { video?: boolean; peer?: PeerOptions } = {},
): Promise<{ browser: TestBrowser; session: PeerSession; answerSdp: string }> {
  const browser = new TestBrowser({ video: options.video ?? false });
  const { answerSdp, session } = await answerOffer(await browser.offer(), {
    ...LOOPBACK_ICE,
    ...options.peer,
  });
  await browser.accept(answerSdp);
  await session.waitConnected();
  while (browser.pc.connectionState !== 'connected') {
    await browser.pc.connectionStateChange.asPromise();
  }
  return { browser, session, answerSdp };
}

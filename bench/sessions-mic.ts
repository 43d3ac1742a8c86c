/**
 * The benchmark callers' microphones: speech and room noise encoded to Opus once, then sent
 * by every caller as its own RTP stream, 50 packets a second without a break, as a browser
 * with an open microphone does. Encoding once keeps the load generator light; the server
 * receives and decodes the same packets it would get from twenty different people.
 */
import { Encoder } from '@evan/opus';
import { RtpHeader, RtpPacket } from 'werift';
import { resample } from '../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../agent/providers/local/flite.js';
import { OPUS_FRAME_SAMPLES, OPUS_RATE } from '../agent/transports/webrtc/opus-rtp-sender.js';
import { PcmChunker } from '../agent/transports/webrtc/pcm.js';

/** 20 ms Opus packets: a question, and a second of faint noise to loop between questions. */
export interface EncodedAudio {
  question: Buffer[];
  noise: Buffer[];
}

/** Peak of the noise a quiet room gives a microphone with noise suppression on. */
const NOISE_PEAK = 40;

/** Synthesises `text` with flite and encodes it, and a second of noise, as 20 ms packets. */
export async function encodeAudio(text: string): Promise<EncodedAudio> {
  const speech = resample(await synthesizeSpeech(text), OPUS_RATE);
  const encoder = new Encoder({ channels: 1, sample_rate: OPUS_RATE, application: 'voip' });
  const frames = (samples: Int16Array) => {
    const chunker = new PcmChunker(OPUS_FRAME_SAMPLES);
    const chunks = chunker.push(samples);
    const tail = chunker.flushPadded();
    return tail === undefined ? chunks : [...chunks, tail];
  };
  const encode = (frame: Int16Array) => Buffer.from(encoder.encode(frame));
  const noise = new Int16Array(OPUS_RATE).map(() =>
    Math.round((Math.random() * 2 - 1) * NOISE_PEAK),
  );
  // Noise first: the question then starts from an encoder state a microphone would have.
  const noisePackets = frames(noise).map(encode);
  return { question: frames(speech).map(encode), noise: noisePackets };
}

/** Where a caller's packets go: its audio transceiver's sender. */
export interface RtpSink {
  sendRtp(packet: RtpPacket): Promise<unknown> | unknown;
}

/**
 * One caller's microphone: a packet every tick, from the question being said or else the
 * noise loop. `say()` resolves when the last packet of the question has left.
 */
export class PacketMic {
  private sequenceNumber = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);
  private noiseIndex = 0;
  private speaking: { next: number; done: () => void } | undefined;
  private first = true;

  constructor(
    private readonly sink: RtpSink,
    private readonly audio: EncodedAudio,
  ) {}

  /** Says the question; resolves with `performance.now()` when its last packet left. */
  say(): Promise<number> {
    return new Promise((resolve) => {
      this.speaking = { next: 0, done: () => resolve(performance.now()) };
    });
  }

  /** Sends the next 20 ms packet; called by the shared clock. */
  tick(): void {
    const speaking = this.speaking;
    let payload: Buffer | undefined;
    let finished: (() => void) | undefined;
    if (speaking !== undefined) {
      payload = this.audio.question[speaking.next];
      speaking.next++;
      if (speaking.next >= this.audio.question.length) {
        this.speaking = undefined;
        finished = speaking.done;
      }
    }
    if (payload === undefined) {
      payload = this.audio.noise[this.noiseIndex % this.audio.noise.length];
      this.noiseIndex++;
    }
    if (payload === undefined) return;
    const header = new RtpHeader({
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      payloadType: 111,
      marker: this.first,
    });
    this.first = false;
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.timestamp = (this.timestamp + OPUS_FRAME_SAMPLES) >>> 0;
    void Promise.resolve(this.sink.sendRtp(new RtpPacket(header, payload))).catch(() => {
      // The call is over; the benchmark notices by the missing replies.
    });
    finished?.();
  }
}

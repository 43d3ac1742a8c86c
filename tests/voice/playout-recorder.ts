import { Decoder } from '@evan/opus';
import { voice } from '@livekit/agents';
import type { RtpPacket } from 'werift';
import type { WebRtcAudioOutput } from '../../agent/transports/webrtc/audio-output.js';
import type { RtpSink } from '../../agent/transports/webrtc/opus-rtp-sender.js';
import { rms } from '../audio/measure.js';

/**
 * One reply (or part of one) between two flushes, as it left the product's audio output:
 * measured from the RTP packets that reached the sink. Times are `performance.now()` ms.
 */
export interface PlayedSegment {
  index: number;
  /** When its first packet went out (the session hands a frame over and it plays at once). */
  firstFrameAt: number;
  /** The same moment: playback started. */
  startedAt: number;
  /** When its last packet went out (NaN if none did). */
  lastPlayedAt: number;
  /** When the output reported it finished: drained, or cut by `clearBuffer` (NaN until then). */
  endedAt: number;
  /** Audio sent, in milliseconds (20 per packet). */
  playedMs: number;
  /** Loudest packet of what was sent, decoded (RMS): a silent reply measures 0. */
  peakRms: number;
  interrupted: boolean;
}

const PACKET_MS = 20;
/** A longer silence between packets is a stop (pause or clear), not timer jitter or a stall. */
const STOP_GAP_MS = 150;

/**
 * The lowest sink of the product's {@link WebRtcAudioOutput}, where a call's peer would be: it
 * records each Opus packet when it is sent, decodes it, and groups packets into the segments
 * the output reports started and finished. Tests measure the product's playout this way, not
 * a copy of it.
 */
export class PlayoutRecorder implements RtpSink {
  readonly segments: PlayedSegment[] = [];
  /** When each packet was sent, in order. */
  readonly packetTimes: number[] = [];
  private readonly decoder = new Decoder({ channels: 1, sample_rate: 48_000 });
  private current: PlayedSegment | undefined;
  private output: WebRtcAudioOutput | undefined;

  /** Follows `output`'s playback events; `output` must send to this recorder. */
  watch(output: WebRtcAudioOutput): void {
    this.output = output;
    output.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, () => this.started());
    output.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) =>
      this.finished(ev),
    );
  }

  /** Audio the output holds and has not sent yet, in milliseconds. */
  get queuedMs(): number {
    return this.output?.queuedMs ?? 0;
  }

  sendRtp(packet: RtpPacket): void {
    const at = performance.now();
    this.packetTimes.push(at);
    const segment = this.current;
    if (segment === undefined) return;
    segment.lastPlayedAt = at;
    segment.playedMs += PACKET_MS;
    segment.peakRms = Math.max(segment.peakRms, rms(this.decode(packet.payload)));
  }

  /**
   * When the audio flowing after `since` stopped: the end of the last packet before a gap
   * of more than {@link STOP_GAP_MS}. Undefined while it still flows or if none flowed.
   */
  stoppedAfter(since: number): number | undefined {
    const times = this.packetTimes;
    let i = times.findIndex((t) => t > since);
    if (i < 0) return undefined;
    for (; i < times.length; i++) {
      const at = times[i] ?? 0;
      const next = times[i + 1] ?? performance.now();
      if (next - at > STOP_GAP_MS) return at + PACKET_MS;
    }
    return undefined;
  }

  /**
   * When `segment` stopped being heard after `since` because the session paused or cut it: a
   * stop after which it played on (paused, then resumed), or for a cut segment its last
   * packet's end. Undefined if it simply played to its end.
   */
  stopOf(segment: PlayedSegment, since: number): number | undefined {
    const stopped = this.stoppedAfter(since);
    if (stopped !== undefined && stopped < segment.lastPlayedAt) return stopped;
    if (!segment.interrupted) return undefined;
    // The next reply may follow the cut within the gap a stop needs: the cut is the stop.
    return Math.min(stopped ?? Number.POSITIVE_INFINITY, segment.lastPlayedAt + PACKET_MS);
  }

  /** When the first packet after `at` was sent (undefined if none was). */
  nextPacketAfter(at: number): number | undefined {
    return this.packetTimes.find((t) => t > at);
  }

  /** Packets sent in [from, to). */
  packetsBetween(from: number, to: number): number {
    return this.packetTimes.filter((t) => t >= from && t < to).length;
  }

  private started(): void {
    const now = performance.now();
    this.current = {
      index: this.segments.length,
      firstFrameAt: now,
      startedAt: now,
      lastPlayedAt: Number.NaN,
      endedAt: Number.NaN,
      playedMs: 0,
      peakRms: 0,
      interrupted: false,
    };
    this.segments.push(this.current);
  }

  private finished(ev: voice.PlaybackFinishedEvent): void {
    const segment = this.current;
    // A segment cleared before its first packet never started: nothing was heard.
    if (segment === undefined) return;
    this.current = undefined;
    segment.interrupted = ev.interrupted;
    segment.endedAt = performance.now();
  }

  private decode(payload: Buffer): Int16Array {
    const pcm = this.decoder.decode(payload);
    return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
  }
}

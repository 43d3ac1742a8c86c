import type {
  MediaStreamTrack,
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpSender,
  RTCRtpTransceiver,
} from 'werift';
import type { Logger } from '../../../core/logger.js';
import type { JsonChannel } from './data-channel.js';

/** Why a call ended: we closed it, the browser closed it, ICE/DTLS failed, it went quiet, or never connected. */
export type CloseReason = 'local' | 'remote-closed' | 'failed' | 'idle' | 'connect-timeout';

interface PeerSessionParts {
  pc: RTCPeerConnection;
  audio: RTCRtpTransceiver;
  video: RTCRtpTransceiver | undefined;
  data: JsonChannel;
  options: { connectTimeoutMs?: number; idleTimeoutMs?: number; logger?: Logger };
}

/**
 * One browser call on the server: the media and data handles the character session plugs
 * into, and the watch that notices the browser leaving.
 *
 * A browser whose tab is killed or whose network drops sends nothing more (werift's own
 * `close()` sends no DTLS alert either), and werift's ICE consent takes 30 s to expire. A live
 * browser sends audio every 20 ms and a consent check every 4-6 s, so nothing on the wire for
 * `idleTimeoutMs` (default 4 s) ends the call; a DTLS close alert or an ICE failure ends it
 * at once.
 */
export class PeerSession {
  readonly pc: RTCPeerConnection;
  /** The browser's microphone; feed it to `WebRtcAudioInput`. */
  readonly remoteAudio: MediaStreamTrack;
  /** Where our voice goes; feed it to `WebRtcAudioOutput` as its sink. */
  readonly audioSender: RTCRtpSender;
  /** The browser's camera transceiver, when it offered one and video is accepted. */
  readonly video: RTCRtpTransceiver | undefined;
  /** JSON messages to and from the page. */
  readonly data: JsonChannel;
  /** Settles once with the reason the call ended. */
  readonly closed: Promise<CloseReason>;
  private resolveClosed: (reason: CloseReason) => void = () => {};
  private readonly listeners = new Set<(reason: CloseReason) => void>();
  private connectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private lastReceivedAt = performance.now();
  private ended = false;

  constructor(parts: PeerSessionParts) {
    this.pc = parts.pc;
    this.remoteAudio = parts.audio.receiver.track;
    this.audioSender = parts.audio.sender;
    this.video = parts.video;
    this.data = parts.data;
    this.idleTimeoutMs = parts.options.idleTimeoutMs ?? 4000;
    this.logger = parts.options.logger;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.watchConnection(parts.options.connectTimeoutMs ?? 15_000);
  }

  /** True while the call is up (after connecting, before closing). */
  get isConnected(): boolean {
    return !this.ended && this.pc.connectionState === 'connected';
  }

  /** Calls `listener` once when the call ends; returns an unsubscribe. */
  onClosed(listener: (reason: CloseReason) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when ICE and DTLS are up; rejects if the call ends first. */
  async waitConnected(): Promise<void> {
    if (this.isConnected) return;
    if (this.ended) throw new Error('The call has ended');
    await new Promise<void>((resolve, reject) => {
      const sub = this.pc.connectionStateChange.subscribe((state) => {
        if (state !== 'connected') return;
        sub.unSubscribe();
        resolve();
      });
      void this.closed.then((reason) => {
        sub.unSubscribe();
        reject(new Error(`The call ended before it connected (${reason})`));
      });
    });
  }

  /** Records that something arrived from the browser (the peer calls this for STUN requests). */
  noteInbound(): void {
    this.lastReceivedAt = performance.now();
  }

  /** Hangs up from our side. */
  async close(): Promise<void> {
    await this.end('local');
  }

  private watchConnection(connectTimeoutMs: number): void {
    this.connectTimer = setTimeout(() => void this.end('connect-timeout'), connectTimeoutMs);
    this.connectTimer.unref();
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.onConnected();
      else if (state === 'failed') void this.end('failed');
      else if (state === 'closed') void this.end('remote-closed');
    });
    for (const dtls of this.pc.dtlsTransports) this.watchTransport(dtls);
  }

  private onConnected(): void {
    clearTimeout(this.connectTimer);
    if (this.idleTimer !== undefined || this.ended) return;
    this.lastReceivedAt = performance.now();
    const checkEveryMs = Math.min(1000, Math.max(50, this.idleTimeoutMs / 4));
    this.idleTimer = setInterval(() => this.checkIdle(), checkEveryMs);
    this.idleTimer.unref();
    this.logger?.info({ event: 'webrtc.connected' }, 'webrtc peer connected');
  }

  private watchTransport(dtls: RTCDtlsTransport): void {
    dtls.iceTransport.connection.onData.subscribe(() => this.noteInbound());
    dtls.onStateChange.subscribe((state) => {
      // A DTLS close alert from the browser (Chrome and Firefox send one on pc.close()).
      if (state === 'closed') void this.end('remote-closed');
      else if (state === 'failed') void this.end('failed');
    });
  }

  private checkIdle(): void {
    if (performance.now() - this.lastReceivedAt > this.idleTimeoutMs) void this.end('idle');
  }

  private async end(reason: CloseReason): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.idleTimer);
    this.logger?.info({ event: 'webrtc.closed', reason }, 'webrtc peer closed');
    this.data.close();
    await this.pc.close().catch(() => {});
    this.resolveClosed(reason);
    for (const listener of this.listeners) listener(reason);
    this.listeners.clear();
  }
}

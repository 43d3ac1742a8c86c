import {
  type InterfaceAddresses,
  type RTCIceServer,
  RTCPeerConnection,
  type RTCRtpTransceiver,
  useH264,
  useOPUS,
  useVP8,
} from 'werift';
import { AppError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { JsonChannel } from './data-channel.js';
import { PeerSession } from './peer-session.js';

export type { CloseReason } from './peer-session.js';
export { PeerSession };

/** How the server side of a browser call is set up. Times in milliseconds. */
export interface PeerOptions {
  /** STUN/TURN servers for the server's own candidates. Default none: host candidates only. */
  iceServers?: RTCIceServer[];
  /** Bind ICE sockets to these local addresses (e.g. `{ udp4: '127.0.0.1' }` in tests). */
  iceInterfaceAddresses?: InterfaceAddresses;
  /** Extra host addresses to offer, such as loopback or a public address behind 1:1 NAT. */
  iceAdditionalHostAddresses?: string[];
  /** UDP ports to use, for a firewall that opens a range. */
  icePortRange?: [number, number];
  /**
   * Largest data channel message either side may send, in bytes. Default 262144 (what Chrome
   * accepts), so a camera snapshot fits; werift's own default (65536) would refuse one.
   */
  maxMessageSize?: number;
  /** Receive the browser's camera when it offers one. Default true. */
  acceptVideo?: boolean;
  /** Longest wait for our ICE candidates before answering. Default 5000. */
  gatheringTimeoutMs?: number;
  /** A call that never connects is closed after this. Default 15000. */
  connectTimeoutMs?: number;
  /**
   * A connected call that receives nothing for this long is treated as gone. Default 4000.
   * A live browser sends 50 audio packets a second (also while its track is disabled) and an
   * ICE consent check every 4-6 s; a page that sends no audio at all needs 7000 or more.
   */
  idleTimeoutMs?: number;
  logger?: Logger;
}

/** The answer to send back to the browser and the call it belongs to. */
export interface AnsweredOffer {
  answerSdp: string;
  session: PeerSession;
}

/**
 * Answers a browser's SDP offer, WHIP-style: one offer in, one complete answer out, no trickle.
 * The answer is returned only after ICE gathering finished, so it carries every candidate.
 *
 * The browser's audio is answered send-and-receive with Opus (our voice goes back on the same
 * m-line), its camera receive-only (VP8 or H.264) or inactive, and its data channel is taken
 * as the JSON channel. Throws `REQUEST.INVALID` for an offer without audio or one we cannot
 * negotiate.
 */
export async function answerOffer(
  offerSdp: string,
  options: PeerOptions = {},
): Promise<AnsweredOffer> {
  if (!/^m=audio /m.test(offerSdp)) {
    throw new AppError('REQUEST.INVALID', 'The offer has no audio section');
  }
  let session: PeerSession | undefined;
  const pc = createPeerConnection(options, () => session?.noteInbound());
  const data = new JsonChannel();
  pc.onDataChannel.subscribe((channel) => data.attach(channel));
  let transceivers: ReturnType<typeof chooseDirections>;
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    transceivers = chooseDirections(pc, options.acceptVideo ?? true);
  } catch (cause) {
    await pc.close();
    if (cause instanceof AppError) throw cause;
    throw new AppError('REQUEST.INVALID', 'The offer could not be negotiated', { cause });
  }
  const { audio, video } = transceivers;
  session = new PeerSession({ pc, audio, video, data, options });
  try {
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc, options.gatheringTimeoutMs ?? 5000);
  } catch (cause) {
    await session.close();
    throw new AppError('INTERNAL', 'Could not prepare the WebRTC answer', { cause });
  }
  const answerSdp = pc.localDescription?.sdp;
  if (answerSdp === undefined) {
    await session.close();
    throw new AppError('INTERNAL', 'The WebRTC answer is missing');
  }
  return { answerSdp, session };
}

function createPeerConnection(options: PeerOptions, onStunRequest: () => void): RTCPeerConnection {
  return new RTCPeerConnection({
    // Called for each STUN binding request: the browser's consent checks are a heartbeat.
    iceFilterStunResponse: () => {
      onStunRequest();
      return true;
    },
    iceServers: options.iceServers ?? [],
    iceUseIpv6: false,
    iceInterfaceAddresses: options.iceInterfaceAddresses,
    iceAdditionalHostAddresses: options.iceAdditionalHostAddresses,
    icePortRange: options.icePortRange,
    maxMessageSize: options.maxMessageSize ?? 262_144,
    codecs: {
      audio: [useOPUS()],
      video: [useVP8(), useH264()],
    },
  });
}

/** The offer created receive-only transceivers; our voice goes out on the audio one. */
function chooseDirections(
  pc: RTCPeerConnection,
  acceptVideo: boolean,
): { audio: RTCRtpTransceiver; video: RTCRtpTransceiver | undefined } {
  const transceivers = pc.getTransceivers();
  const audio = transceivers.find((t) => t.kind === 'audio');
  if (audio === undefined) {
    throw new AppError('REQUEST.INVALID', 'The offer has no usable audio section');
  }
  audio.setDirection('sendrecv');
  let video: RTCRtpTransceiver | undefined;
  for (const t of transceivers.filter((t) => t.kind === 'video')) {
    if (acceptVideo && video === undefined) {
      video = t;
      t.setDirection('recvonly');
    } else {
      t.setDirection('inactive');
    }
  }
  return { audio, video };
}

async function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unSubscribe();
      reject(new Error(`ICE gathering did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    });
  });
}

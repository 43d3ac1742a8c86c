import { SessionDescription, type SignalTarget, TrickleRequest } from '@livekit/protocol';
import {
  MediaStream,
  type MediaStreamTrack,
  RTCIceCandidate,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpReceiver,
  type RTCRtpSender,
} from 'werift';

/**
 * The server's WebRTC side of one participant, as LiveKit's SFU has it: a publisher
 * PeerConnection that receives what the client publishes (the client offers) and a subscriber
 * PeerConnection that carries other participants' tracks and the server's data channels to
 * the client (the server offers).
 */
export function newServerPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: 48_000,
          channels: 2,
          payloadType: 111,
        }),
      ],
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90_000,
          payloadType: 96,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
    },
  });
}

/** The JSON the SDKs put in `TrickleRequest.candidateInit` (RTCIceCandidateInit). */
interface CandidateInit {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

/** Sends every local ICE candidate of `pc` to the client as a `trickle` for `target`. */
export function trickleCandidates(
  pc: RTCPeerConnection,
  target: SignalTarget,
  send: (trickle: TrickleRequest) => void,
): void {
  pc.onIceCandidate.subscribe((candidate) => {
    if (candidate === undefined) return;
    const init: CandidateInit = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? '0',
      sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
    };
    send(new TrickleRequest({ candidateInit: JSON.stringify(init), target }));
  });
}

/** Adds a client's trickled candidate; a malformed one is dropped, as a browser would. */
export async function addTrickledCandidate(pc: RTCPeerConnection, json: string): Promise<void> {
  let init: CandidateInit;
  try {
    init = JSON.parse(json) as CandidateInit;
  } catch {
    return;
  }
  if (!init.candidate) return;
  await pc.addIceCandidate(new RTCIceCandidate(init)).catch(() => undefined);
}

/** A signalled description; an answer carries its offer's `id` (livekit-client waits for it). */
export function description(type: 'offer' | 'answer', sdp: string, id = 0): SessionDescription {
  return new SessionDescription({ type, sdp, id });
}

/** One media section of an SDP: what `m=`, `a=mid`, the direction and `a=msid` say. */
interface MediaSection {
  kind: string | undefined;
  port: string | undefined;
  mid: string | undefined;
  direction: string | undefined;
  /** The track id of `a=msid:<stream> <track>`. */
  trackId: string | undefined;
}

function parseSections(sdp: string): MediaSection[] {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .map((section) => {
      const [kind, port] = section.split(' ');
      return {
        kind,
        port,
        mid: /\r?\na=mid:(\S+)/.exec(section)?.[1],
        direction: /\r?\na=(sendrecv|sendonly|recvonly|inactive)/.exec(section)?.[1],
        trackId: /\r?\na=msid:\S+ (\S+)/.exec(section)?.[1],
      };
    });
}

/**
 * The track ids the client announced per media section (`a=mid` and `a=msid:<stream> <track>`):
 * a published track's `AddTrackRequest.cid` is its track id, and `ontrack` only says the mid.
 */
export function trackIdsByMid(sdp: string): Map<string, string> {
  const byMid = new Map<string, string>();
  for (const { mid, trackId } of parseSections(sdp)) {
    if (mid !== undefined && trackId !== undefined) byMid.set(mid, trackId);
  }
  return byMid;
}

/**
 * Puts a forwarded track on a subscriber connection with the ids LiveKit clients read: the
 * stream id `<participant sid>|<track sid>` and the track id `<track sid>`.
 */
export function addForwardedTrack(
  pc: RTCPeerConnection,
  track: MediaStreamTrack,
  participantSid: string,
  trackSid: string,
): RTCRtpSender {
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  // werift's sender track id is a random UUID, declared readonly but writable at run time.
  (transceiver.sender as { trackId: string }).trackId = trackSid;
  transceiver.sender.setStreams([new MediaStream({ id: `${participantSid}|${trackSid}` })]);
  return transceiver.sender;
}

/**
 * Passes a subscriber's keyframe requests for a forwarded track on to its publisher, as
 * LiveKit's SFU does: a subscriber that starts receiving after the publisher's last keyframe
 * cannot decode a frame until the publisher's encoder sends a new one. The video codec offers
 * `nack pli` and no `ccm fir`, so clients ask with a PLI.
 */
export function forwardKeyframeRequests(
  sender: RTCRtpSender,
  publisher: { receiver: RTCRtpReceiver; media: MediaStreamTrack },
): void {
  sender.onPictureLossIndication.subscribe(() => {
    const ssrc = publisher.media.ssrc;
    if (ssrc !== undefined) void publisher.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  });
}

/** One line per media section of `sdp` (`mid kind direction port msid-track`), for reports. */
export function mediaSections(sdp: string): string[] {
  return parseSections(sdp).map(
    (m) => `${m.mid ?? '?'} ${m.kind} ${m.direction ?? '?'} ${m.port} ${m.trackId ?? '-'}`,
  );
}

import {
  type Participant,
  type RemoteTrack,
  type Room,
  RoomEvent,
  type Track,
  type TrackPublication,
  TrackSource,
  VideoStream,
} from '@livekit/rtc-node';
import type { LatestFrameVision } from '../../vision/latest-frame.js';

/**
 * Points `vision` at one participant's camera in a LiveKit room, following it as it is
 * published, muted, unmuted and unpublished. Tracks already subscribed count too, so this may
 * run before or after the room connects. Returns a function that stops following.
 */
export function followParticipantCamera(
  room: Room,
  identity: string,
  vision: LatestFrameVision,
): () => void {
  const handlers = cameraHandlers(identity, vision);
  room.on(RoomEvent.TrackSubscribed, handlers.subscribed);
  room.on(RoomEvent.TrackUnsubscribed, handlers.unsubscribed);
  room.on(RoomEvent.TrackMuted, handlers.muted);
  room.on(RoomEvent.TrackUnmuted, handlers.unmuted);
  for (const participant of room.remoteParticipants.values()) {
    for (const publication of participant.trackPublications.values()) {
      const track = publication.track;
      if (track !== undefined) handlers.subscribed(track, publication, participant);
    }
  }

  return () => {
    room.off(RoomEvent.TrackSubscribed, handlers.subscribed);
    room.off(RoomEvent.TrackUnsubscribed, handlers.unsubscribed);
    room.off(RoomEvent.TrackMuted, handlers.muted);
    room.off(RoomEvent.TrackUnmuted, handlers.unmuted);
    vision.stop();
  };
}

/** The room events that move `vision` when they concern `identity`'s camera. */
function cameraHandlers(identity: string, vision: LatestFrameVision) {
  const isTheCamera = (publication: TrackPublication, participant: Participant) =>
    participant.identity === identity && publication.source === TrackSource.SOURCE_CAMERA;
  return {
    subscribed: (track: Track, pub: TrackPublication, who: Participant) => {
      if (!isTheCamera(pub, who)) return;
      vision.follow(new VideoStream(track));
      vision.setPaused(pub.muted === true);
    },
    unsubscribed: (_track: RemoteTrack, pub: TrackPublication, who: Participant) => {
      if (isTheCamera(pub, who)) vision.stop();
    },
    muted: (pub: TrackPublication, who: Participant) => {
      if (isTheCamera(pub, who)) vision.setPaused(true);
    },
    unmuted: (pub: TrackPublication, who: Participant) => {
      if (isTheCamera(pub, who)) vision.setPaused(false);
    },
  };
}

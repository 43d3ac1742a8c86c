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
  const isTheCamera = (publication: TrackPublication, participant: Participant) =>
    participant.identity === identity && publication.source === TrackSource.SOURCE_CAMERA;

  const onSubscribed = (track: Track, pub: TrackPublication, who: Participant) => {
    if (!isTheCamera(pub, who)) return;
    vision.follow(new VideoStream(track));
    vision.setPaused(pub.muted === true);
  };
  const onUnsubscribed = (_track: RemoteTrack, pub: TrackPublication, who: Participant) => {
    if (isTheCamera(pub, who)) vision.stop();
  };
  const onMuted = (pub: TrackPublication, who: Participant) => {
    if (isTheCamera(pub, who)) vision.setPaused(true);
  };
  const onUnmuted = (pub: TrackPublication, who: Participant) => {
    if (isTheCamera(pub, who)) vision.setPaused(false);
  };

  room.on(RoomEvent.TrackSubscribed, onSubscribed);
  room.on(RoomEvent.TrackUnsubscribed, onUnsubscribed);
  room.on(RoomEvent.TrackMuted, onMuted);
  room.on(RoomEvent.TrackUnmuted, onUnmuted);
  for (const participant of room.remoteParticipants.values()) {
    for (const publication of participant.trackPublications.values()) {
      const track = publication.track;
      if (track !== undefined) onSubscribed(track, publication, participant);
    }
  }

  return () => {
    room.off(RoomEvent.TrackSubscribed, onSubscribed);
    room.off(RoomEvent.TrackUnsubscribed, onUnsubscribed);
    room.off(RoomEvent.TrackMuted, onMuted);
    room.off(RoomEvent.TrackUnmuted, onUnmuted);
    vision.stop();
  };
}

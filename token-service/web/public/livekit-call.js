// A voice call through LiveKit, when the server has LIVEKIT_URL: a room token from
// POST /api/token (which dispatches the character's agent), then livekit-client.
// The agent publishes captions on the `lk.transcription` text stream and its state in the
// `lk.agent.state` attribute; both become the same messages the direct path sends.

import { api } from './auth.js';

export async function startLiveKitCall({ characterId, camera, preview, events }) {
  const { Room, RoomEvent, Track } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
  const response = await api('/api/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ character_id: characterId }),
  });
  const { server_url: url, participant_token: token } = await response.json();
  const room = new Room();
  room.on(RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === Track.Kind.Audio)
      events.onRemoteStream(new MediaStream([track.mediaStreamTrack]));
  });
  room.on(RoomEvent.ParticipantAttributesChanged, (changed) => {
    if (changed['lk.agent.state'])
      events.onMessage({ type: 'state', state: changed['lk.agent.state'] });
  });
  relayCaptions(room, events);
  room.on(RoomEvent.Disconnected, () => events.onEnded());
  await room.connect(url, token);
  await room.localParticipant.setMicrophoneEnabled(true);
  if (camera) {
    const publication = await room.localParticipant.setCameraEnabled(true);
    publication?.videoTrack?.attach(preview);
  }
  return {
    async hangUp() {
      await room.disconnect();
    },
  };
}

/**
 * Turns the `lk.transcription` text streams (the user's words and the agent's reply) into the
 * caption messages the direct path sends.
 */
function relayCaptions(room, events) {
  room.registerTextStreamHandler('lk.transcription', async (reader, participant) => {
    const role = participant.identity === room.localParticipant.identity ? 'user' : 'character';
    let text = '';
    for await (const chunk of reader) {
      text += chunk;
      events.onMessage({ type: 'caption', role, text, final: false });
    }
    // The user's words come as whole-text streams, interim ones then one marked final. The
    // agent's reply is one stream of deltas whose header says final "false": its end is the
    // end of the segment (the trailer may also mark it final).
    const final =
      role === 'character' || reader.info.attributes?.['lk.transcription_final'] === 'true';
    if (final) events.onMessage({ type: 'caption', role, text, final: true });
  });
}

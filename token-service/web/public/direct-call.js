// A voice call over WebRTC straight to this server (no LiveKit): one offer, one answer
// (POST /api/rtc/offer, WHIP-style), captions and state on the "parley" data channel, and,
// with the camera on, a video track the character looks at.

import { api } from './auth.js';

const GATHERING_LIMIT_MS = 3000;

/**
 * Starts a call in `chatRoomId`. `events.onMessage` gets each data channel message,
 * `events.onLocalStream` the microphone, `events.onRemoteStream` the character's voice;
 * `events.onEnded(reason)` is called once when the call is over: `'hung-up'`, or `'dropped'`
 * when the connection was lost. Returns `{ hangUp }`.
 */
export async function startDirectCall({ chatRoomId, camera, preview, events }) {
  const media = await localMedia(camera);
  events.onLocalStream?.(media);
  const { pc, channel } = callPeer(media, events);

  let ended = false;
  let location;
  const end = (reason) => {
    if (ended) return;
    ended = true;
    channel.close();
    pc.close();
    for (const track of media.getTracks()) track.stop();
    events.onEnded(reason);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') end('dropped');
  };
  // The server closing the call (shutdown, or it stopped hearing us) closes the channel.
  channel.onclose = () => end('dropped');

  try {
    location = await offerAndAnswer(pc, chatRoomId);
  } catch (error) {
    end('hung-up');
    throw error;
  }

  if (camera) await showPreview(preview, media);

  return {
    async hangUp() {
      end('hung-up');
      // The server notices a closed peer by itself; this makes it immediate.
      if (location) await api(location, { method: 'DELETE' }).catch(() => {});
    },
  };
}

/** The microphone, cleaned up by the browser, and the camera when asked for. */
function localMedia(camera) {
  return navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: camera ? { width: 640, height: 480 } : false,
  });
}

/** Shows the user their own camera. */
async function showPreview(preview, media) {
  preview.srcObject = new MediaStream(media.getVideoTracks());
  await preview.play().catch(() => {});
}

/** The call's peer: the microphone (and camera) out; the character's voice and messages in. */
function callPeer(media, events) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver(media.getAudioTracks()[0], { direction: 'sendrecv', streams: [media] });
  for (const track of media.getVideoTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  const channel = pc.createDataChannel('parley');
  channel.onmessage = (event) => events.onMessage(JSON.parse(event.data));
  pc.ontrack = (event) => events.onRemoteStream(event.streams[0] ?? new MediaStream([event.track]));
  return { pc, channel };
}

/** Sends the offer, applies the server's answer and returns the call's location. */
async function offerAndAnswer(pc, chatRoomId) {
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  const response = await api(`/api/rtc/offer?chat_room_id=${chatRoomId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp,
  });
  const location = response.headers.get('location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  return location;
}

/** The offer must carry every candidate: the server does not take trickled ones. */
function gatheringComplete(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, GATHERING_LIMIT_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
